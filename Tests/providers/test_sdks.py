"""Conformance of `baton sandbox` with the real world: the providers' official
Python SDKs (`openai`, `anthropic`, `twilio`, pinned in ops/requirements-test.txt)
are pointed at a real sandbox process, make calls, and must parse its answers. A
stand-in that an official SDK rejects is a defect of the sandbox, so every failure
message below names what the SDK expected (the field, the header, the status).

Run: BATON_BIN=.build/debug/baton .venv-test/bin/python -m unittest discover \
        -s Tests/providers -t Tests/providers
"""

import email.utils
import time
import unittest
import urllib.parse
import uuid

import anthropic
import openai
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

from sandbox_harness import Sandbox, word_count

OPENAI_KEY = "sk-sandbox"
ANTHROPIC_KEY = "sk-ant-sandbox"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_TOKEN = "sandbox-token"
# twilio-python reads TWILIO_* from `environment or os.environ`: a non-empty mapping
# without them keeps a developer's real credentials out (an empty one would not).
NO_TWILIO_ENV = {"BATON_PROVIDER_TESTS": "1"}
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-4-5"

OPENAI_FINISH = {"stop", "length", "tool_calls", "content_filter", "function_call"}
ANTHROPIC_STOP = {"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"}


def unique_prompt(words="Write one short friendly line for lead"):
    return f"{words} {uuid.uuid4().hex[:8]}"


def error_body(exc):
    """The error response's JSON body as sent (the openai SDK's `exc.body` is the
    inner `error` object, so read the response itself)."""
    try:
        return exc.response.json()
    except Exception:
        return getattr(exc, "body", None)


class SandboxCase(unittest.TestCase):
    """One sandbox process per test class (faults and deliveries stay local)."""

    sandbox_args = ()

    @classmethod
    def setUpClass(cls):
        cls.sandbox = Sandbox(extra_args=cls.sandbox_args).start()

    @classmethod
    def tearDownClass(cls):
        cls.sandbox.stop()

    def count(self, provider):
        return len(self.sandbox.deliveries(provider=provider))

    def assertDeliveries(self, provider, before, added, what):
        after = self.count(provider)
        self.assertEqual(after - before, added,
                         f"{what}: GET /_sandbox/deliveries?provider={provider} grew by {after - before}, "
                         f"expected {added}")


# ---------------------------------------------------------------------------
# OpenAI (openai-python): POST {base}/chat/completions with Authorization: Bearer
# ---------------------------------------------------------------------------
class OpenAISDK(SandboxCase):

    def client(self, **kw):
        kw.setdefault("api_key", OPENAI_KEY)
        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", 20)
        return openai.OpenAI(base_url=self.sandbox.base + "/v1", **kw)

    def chat(self, client, prompt, model=OPENAI_MODEL, **kw):
        return client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt}], **kw)

    def test_chat_completion_parses(self):
        before = self.count("openai")
        prompt = unique_prompt()
        r = self.chat(self.client(), prompt)
        self.assertIsInstance(r, openai.types.chat.ChatCompletion,
                              f"the SDK returned {type(r).__name__} instead of a ChatCompletion: a response "
                              "without `Content-Type: application/json` is handed back as raw text")
        self.assertEqual(r.object, "chat.completion", "field `object`")
        self.assertTrue(isinstance(r.id, str) and r.id, "field `id` (non-empty string)")
        self.assertIsInstance(r.created, int, "field `created` (unix seconds, int)")
        self.assertTrue(r.model, "field `model`")
        self.assertEqual(len(r.choices), 1, "field `choices` (one choice)")
        choice = r.choices[0]
        self.assertEqual(choice.index, 0, "field `choices[0].index`")
        self.assertIn(choice.finish_reason, OPENAI_FINISH, "field `choices[0].finish_reason`")
        self.assertEqual(choice.message.role, "assistant", "field `choices[0].message.role`")
        content = choice.message.content
        self.assertTrue(isinstance(content, str) and content.strip(),
                        f"`choices[0].message.content` must be a non-empty string, got {content!r}")
        u = r.usage
        self.assertIsNotNone(u, "field `usage` ({prompt_tokens, completion_tokens, total_tokens})")
        self.assertGreater(u.total_tokens, 0, "usage.total_tokens")
        self.assertEqual(u.total_tokens, u.prompt_tokens + u.completion_tokens,
                         "usage.total_tokens == prompt_tokens + completion_tokens")
        # docs/sandbox.md: token counts are the prompt's and answer's word counts.
        self.assertEqual(u.prompt_tokens, word_count(prompt), "usage.prompt_tokens = words in the prompt")
        self.assertEqual(u.completion_tokens, word_count(content), "usage.completion_tokens = words in the answer")
        self.assertDeliveries("openai", before, 1, "one successful chat completion")

    def test_strict_schema_validation_accepts_the_answer(self):
        # _strict_response_validation makes the SDK validate every field against its
        # schema (and insist on a JSON Content-Type); the real API passes it.
        client = self.client(_strict_response_validation=True)
        try:
            r = self.chat(client, unique_prompt())
        except openai.APIResponseValidationError as e:
            self.fail(f"openai SDK rejected the answer under strict validation: {e} body={e.body!r}")
        self.assertTrue(r.choices[0].message.content)

    def test_deterministic_per_prompt_and_model(self):
        client = self.client()
        prompt = unique_prompt("Summarise the epic in one line")
        a = self.chat(client, prompt)
        b = self.chat(client, prompt)
        c = self.chat(client, prompt + " please")
        d = self.chat(client, prompt, model="gpt-4.1")
        self.assertEqual(a.choices[0].message.content, b.choices[0].message.content,
                         "same model and prompt must give the same text")
        self.assertEqual(a.usage.total_tokens, b.usage.total_tokens)
        self.assertNotEqual(a.choices[0].message.content, c.choices[0].message.content,
                            "another prompt must give another text")
        self.assertNotEqual(a.choices[0].message.content, d.choices[0].message.content,
                            "the text is derived from the model too")

    def test_missing_key_is_authentication_error(self):
        before = self.count("openai")
        client = self.client()
        with self.assertRaises(openai.AuthenticationError) as cm:
            self.chat(client, unique_prompt(), extra_headers={"Authorization": openai.omit})
        e = cm.exception
        self.assertEqual(e.status_code, 401)
        body = error_body(e)
        self.assertTrue(isinstance(body, dict) and isinstance(body.get("error"), dict)
                        and body["error"].get("message"),
                        f'OpenAI error body must be {{"error":{{"message","type","param","code"}}}}, got {body!r}')
        self.assertDeliveries("openai", before, 0, "a request without a key")

    def test_malformed_key_is_authentication_error(self):
        with self.assertRaises(openai.AuthenticationError) as cm:
            self.chat(self.client(), unique_prompt(), extra_headers={"Authorization": "Basic c2stc2FuZGJveA=="})
        self.assertEqual(cm.exception.status_code, 401)

    def test_queued_429_is_rate_limit_error_without_retries(self):
        before = self.count("openai")
        self.sandbox.queue_faults([{"status": 429, "retry_after": "1"}], provider="openai")
        with self.assertRaises(openai.RateLimitError) as cm:
            self.chat(self.client(max_retries=0), unique_prompt())
        e = cm.exception
        self.assertEqual(e.status_code, 429)
        self.assertEqual(e.response.headers.get("retry-after"), "1", "header `Retry-After: 1` on the 429")
        body = error_body(e)
        self.assertTrue(isinstance(body, dict) and isinstance(body.get("error"), dict),
                        f'429 body must be {{"error":{{...}}}}, got {body!r}')
        self.assertNotEqual(body["error"].get("type"), "insufficient_quota",
                            "a rate limit must not be typed insufficient_quota (that means the quota is gone)")
        self.assertDeliveries("openai", before, 0, "a 429")
        # The fault is consumed: the next request succeeds.
        self.assertTrue(self.chat(self.client(), unique_prompt()).choices[0].message.content)

    def test_sdk_retries_through_a_queued_429(self):
        before = self.count("openai")
        self.sandbox.queue_faults([{"status": 429, "retry_after": "1"}], provider="openai")
        t0 = time.monotonic()
        r = self.chat(self.client(max_retries=2), unique_prompt())
        elapsed = time.monotonic() - t0
        self.assertTrue(r.choices[0].message.content)
        self.assertGreaterEqual(elapsed, 0.9, "the SDK waits the Retry-After (1 s) before its retry")
        self.assertDeliveries("openai", before, 1, "a 429 then a success")

    def test_retry_after_http_date_is_understood(self):
        self.sandbox.queue_faults([{"status": 429, "retry_after_date": True}], provider="openai")
        with self.assertRaises(openai.RateLimitError) as cm:
            self.chat(self.client(max_retries=0), unique_prompt())
        value = cm.exception.response.headers.get("retry-after")
        self.assertIsNotNone(value, "header `Retry-After` (HTTP date)")
        self.assertIsNotNone(email.utils.parsedate_tz(value),
                             f"`Retry-After: {value}` must be an HTTP date (RFC 9110 IMF-fixdate)")

    def test_queued_500_is_internal_server_error(self):
        self.sandbox.queue_faults([{"status": 500}], provider="openai")
        with self.assertRaises(openai.InternalServerError) as cm:
            self.chat(self.client(max_retries=0), unique_prompt())
        self.assertEqual(cm.exception.status_code, 500)

    def test_sdk_retries_through_a_queued_500(self):
        self.sandbox.queue_faults([{"status": 500}], provider="openai")
        r = self.chat(self.client(max_retries=2), unique_prompt())
        self.assertTrue(r.choices[0].message.content)

    def test_hang_is_a_timeout_and_does_not_block_the_sandbox(self):
        before = self.count("openai")
        self.sandbox.queue_faults([{"hang": True}], provider="openai")
        t0 = time.monotonic()
        with self.assertRaises(openai.APITimeoutError):
            self.chat(self.client(timeout=1.0, max_retries=0), unique_prompt())
        self.assertLess(time.monotonic() - t0, 10)
        # The hung request must not hold up the next one.
        t0 = time.monotonic()
        self.assertTrue(self.chat(self.client(timeout=5), unique_prompt()).choices[0].message.content)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertDeliveries("openai", before, 1, "a hung request then a success")

    def test_idempotency_key_replays_the_first_success(self):
        before = self.count("openai")
        key = "idem-" + uuid.uuid4().hex
        client = self.client()
        prompt = unique_prompt()
        a = self.chat(client, prompt, extra_headers={"Idempotency-Key": key})
        b = self.chat(client, prompt, extra_headers={"Idempotency-Key": key})
        self.assertEqual(a.id, b.id, "a repeated Idempotency-Key answers the first result (same id)")
        self.assertDeliveries("openai", before, 1, "two requests with one Idempotency-Key")

    def test_idempotency_key_does_not_pin_a_transient_error(self):
        # A client that retries a 429 with the same key must get through: a
        # rate-limited request was never processed, so there is nothing to replay.
        before = self.count("openai")
        key = "idem-" + uuid.uuid4().hex
        self.sandbox.queue_faults([{"status": 429, "retry_after": "1"}], provider="openai")
        r = self.chat(self.client(max_retries=2), unique_prompt(), extra_headers={"Idempotency-Key": key})
        self.assertTrue(r.choices[0].message.content)
        self.assertDeliveries("openai", before, 1, "a 429 then a success under one Idempotency-Key")


# ---------------------------------------------------------------------------
# Anthropic (anthropic-python): POST {base}/v1/messages
# ---------------------------------------------------------------------------
class AnthropicSDK(SandboxCase):

    def client(self, **kw):
        kw.setdefault("api_key", ANTHROPIC_KEY)
        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", 20)
        return anthropic.Anthropic(base_url=self.sandbox.base, **kw)

    def xkey_client(self, **kw):
        """Authenticates with `x-api-key` (older SDKs, curl, baton's own client)
        instead of the current SDK's `Authorization: Bearer`."""
        return self.client(api_key=None, auth_token=None,
                           default_headers={"X-Api-Key": ANTHROPIC_KEY, "Authorization": anthropic.omit}, **kw)

    def create(self, client, prompt, model=ANTHROPIC_MODEL, **kw):
        try:
            return client.messages.create(model=model, max_tokens=256,
                                          messages=[{"role": "user", "content": prompt}], **kw)
        except anthropic.AuthenticationError as e:
            sent = e.request.headers
            if (sent.get("authorization") or "").startswith("Bearer ") and not sent.get("x-api-key"):
                self.fail(f"the sandbox refused the official SDK's credentials: anthropic {anthropic.__version__} "
                          f"sends the API key as `Authorization: Bearer KEY` (no x-api-key) with "
                          f"anthropic-version {sent.get('anthropic-version')}; the sandbox must accept a non-empty "
                          f"Bearer as well as x-api-key. It answered {e.status_code} {error_body(e)!r}")
            raise

    def check_message(self, m, prompt):
        self.assertIsInstance(m, anthropic.types.Message,
                              f"the SDK returned {type(m).__name__} instead of a Message: a response "
                              "without `Content-Type: application/json` is handed back as raw text")
        self.assertEqual(m.type, "message", "field `type`")
        self.assertEqual(m.role, "assistant", "field `role`")
        self.assertTrue(isinstance(m.id, str) and m.id, "field `id`")
        self.assertTrue(m.model, "field `model`")
        self.assertGreaterEqual(len(m.content), 1, "field `content` (a list of blocks)")
        block = m.content[0]
        self.assertEqual(block.type, "text", "field `content[0].type`")
        self.assertTrue(isinstance(block.text, str) and block.text.strip(),
                        f"`content[0].text` must be a non-empty string, got {block.text!r}")
        self.assertIn(m.stop_reason, ANTHROPIC_STOP, "field `stop_reason`")
        self.assertEqual(m.usage.input_tokens, word_count(prompt), "usage.input_tokens = words in the prompt")
        self.assertEqual(m.usage.output_tokens, word_count(block.text), "usage.output_tokens = words in the answer")

    def test_message_parses(self):
        before = self.count("anthropic")
        prompt = unique_prompt()
        m = self.create(self.client(), prompt)
        self.check_message(m, prompt)
        self.assertDeliveries("anthropic", before, 1, "one successful message")

    def test_strict_schema_validation_accepts_the_answer(self):
        try:
            m = self.create(self.client(_strict_response_validation=True), unique_prompt())
        except anthropic.APIResponseValidationError as e:
            self.fail(f"anthropic SDK rejected the answer under strict validation: {e} body={e.body!r}")
        self.assertTrue(m.content[0].text)

    def test_x_api_key_header_is_accepted(self):
        # The current SDK sends `Authorization: Bearer KEY`; older SDKs, curl
        # examples and baton's own client send `x-api-key: KEY`. The API takes both.
        # The SDK's anthropic-version is its own (2026-10-21 for 2.10.0), not 2023-06-01.
        prompt = unique_prompt()
        self.check_message(self.create(self.xkey_client(), prompt), prompt)

    def test_deterministic_per_prompt(self):
        client = self.client()
        prompt = unique_prompt("Draft a reply to the lead")
        a = self.create(client, prompt).content[0].text
        b = self.create(client, prompt).content[0].text
        c = self.create(client, prompt + " kindly").content[0].text
        self.assertEqual(a, b, "same model and prompt must give the same text")
        self.assertNotEqual(a, c, "another prompt must give another text")

    def test_missing_key_is_authentication_error(self):
        before = self.count("anthropic")
        with self.assertRaises(anthropic.AuthenticationError) as cm:
            self.create(self.client(), unique_prompt(),
                        extra_headers={"Authorization": anthropic.omit, "X-Api-Key": anthropic.omit})
        e = cm.exception
        self.assertEqual(e.status_code, 401)
        body = error_body(e)
        self.assertTrue(isinstance(body, dict) and body.get("type") == "error"
                        and isinstance(body.get("error"), dict) and body["error"].get("type"),
                        f'Anthropic error body must be {{"type":"error","error":{{"type","message"}}}}, got {body!r}')
        self.assertEqual(body["error"]["type"], "authentication_error", "error.type on a 401")
        self.assertDeliveries("anthropic", before, 0, "a request without a key")

    def test_missing_version_is_rejected(self):
        # The real API answers 400 invalid_request_error without anthropic-version.
        # (x-api-key here, so that this checks the version alone.)
        with self.assertRaises(anthropic.APIStatusError) as cm:
            self.create(self.xkey_client(), unique_prompt(), extra_headers={"anthropic-version": anthropic.omit})
        self.assertEqual(cm.exception.status_code, 400,
                         f"no anthropic-version header: expected 400, got {cm.exception.status_code} "
                         f"{error_body(cm.exception)!r}")

    def test_queued_529_is_overloaded(self):
        before = self.count("anthropic")
        self.sandbox.queue_faults([{"status": 529}], provider="anthropic")
        with self.assertRaises(anthropic.InternalServerError) as cm:
            self.create(self.client(max_retries=0), unique_prompt())
        e = cm.exception
        self.assertEqual(e.status_code, 529)
        self.assertIsInstance(e, anthropic.OverloadedError)
        self.assertEqual(e.type, "overloaded_error",
                         f"529 body must carry error.type overloaded_error, got {error_body(e)!r}")
        self.assertDeliveries("anthropic", before, 0, "a 529")

    def test_queued_429_is_rate_limit_error(self):
        self.sandbox.queue_faults([{"status": 429, "retry_after": "1"}], provider="anthropic")
        with self.assertRaises(anthropic.RateLimitError) as cm:
            self.create(self.client(max_retries=0), unique_prompt())
        e = cm.exception
        self.assertEqual(e.response.headers.get("retry-after"), "1", "header `retry-after: 1` on the 429")
        self.assertEqual(e.type, "rate_limit_error",
                         f"429 body must carry error.type rate_limit_error, got {error_body(e)!r}")

    def test_sdk_retries_through_a_queued_529(self):
        before = self.count("anthropic")
        self.sandbox.queue_faults([{"status": 529}], provider="anthropic")
        prompt = unique_prompt()
        self.check_message(self.create(self.client(max_retries=2), prompt), prompt)
        self.assertDeliveries("anthropic", before, 1, "a 529 then a success")


# ---------------------------------------------------------------------------
# --rate-limit N: 429 + Retry-After in each provider's own shape
# ---------------------------------------------------------------------------
class RateLimitOption(SandboxCase):
    sandbox_args = ("--rate-limit", "2")

    def burst(self, call, errors):
        """Calls `call` up to 10 times at once-after-another speed; returns the first
        exception of one of the `errors` classes (the rate limit), or fails."""
        for _ in range(10):
            try:
                call()
            except errors as e:
                return e
        self.fail("10 back-to-back requests with --rate-limit 2 never got a 429")

    def test_openai_shape(self):
        client = openai.OpenAI(base_url=self.sandbox.base + "/v1", api_key=OPENAI_KEY, max_retries=0, timeout=20)
        e = self.burst(lambda: client.chat.completions.create(
            model=OPENAI_MODEL, messages=[{"role": "user", "content": unique_prompt()}]), openai.RateLimitError)
        self.assertEqual(e.response.headers.get("retry-after"), "1")
        body = error_body(e)
        self.assertTrue(isinstance(body, dict) and isinstance(body.get("error"), dict), f"OpenAI 429 body: {body!r}")
        self.assertNotEqual(body["error"].get("type"), "insufficient_quota")
        # and the SDK's own retries (honouring Retry-After) get through
        retrying = openai.OpenAI(base_url=self.sandbox.base + "/v1", api_key=OPENAI_KEY, max_retries=5, timeout=20)
        for _ in range(5):
            r = retrying.chat.completions.create(model=OPENAI_MODEL,
                                                 messages=[{"role": "user", "content": unique_prompt()}])
            self.assertTrue(r.choices[0].message.content)

    def test_anthropic_shape(self):
        client = anthropic.Anthropic(base_url=self.sandbox.base, max_retries=0, timeout=20, api_key=None,
                                     default_headers={"X-Api-Key": ANTHROPIC_KEY, "Authorization": anthropic.omit})
        e = self.burst(lambda: client.messages.create(
            model=ANTHROPIC_MODEL, max_tokens=16, messages=[{"role": "user", "content": unique_prompt()}]),
            anthropic.RateLimitError)
        self.assertEqual(e.response.headers.get("retry-after"), "1")
        self.assertEqual(e.type, "rate_limit_error", f"Anthropic 429 body: {error_body(e)!r}")

    def test_twilio_shape(self):
        client = TwilioClient(TWILIO_SID, TWILIO_TOKEN, environment=NO_TWILIO_ENV,
                              http_client=SandboxHttpClient(self.sandbox.base, timeout=20))

        def send():
            client.messages.create(to="+15550001111", from_="+15005550006", body="burst")
        e = self.burst(send, TwilioRestException)
        self.assertEqual(e.status, 429)
        self.assertEqual(e.code, 20429)


# ---------------------------------------------------------------------------
# Twilio (twilio-python): POST /2010-04-01/Accounts/{Sid}/Messages.json
# ---------------------------------------------------------------------------
class SandboxHttpClient(TwilioHttpClient):
    """twilio-python's supported hook for another endpoint: a custom HttpClient
    (as in Twilio's own guide to testing against a mock API). It sends every
    request the SDK builds for https://*.twilio.com/PATH to the sandbox/PATH,
    unchanged otherwise (method, form body, basic auth, headers)."""

    def __init__(self, base, **kw):
        super().__init__(**kw)
        self.base = base.rstrip("/")
        self.urls = []

    def request(self, method, url, *args, **kwargs):
        parts = urllib.parse.urlsplit(url)
        if parts.hostname and parts.hostname.endswith("twilio.com"):
            url = self.base + parts.path + ("?" + parts.query if parts.query else "")
        self.urls.append(url)
        return super().request(method, url, *args, **kwargs)


class TwilioSDK(SandboxCase):

    def client(self, sid=TWILIO_SID, token=TWILIO_TOKEN, account_sid=None):
        http = SandboxHttpClient(self.sandbox.base, timeout=20)
        return TwilioClient(sid, token, account_sid=account_sid, http_client=http, environment=NO_TWILIO_ENV)

    @staticmethod
    def number():
        return "+1555" + str(uuid.uuid4().int)[:7]

    def test_send_sms_parses(self):
        client = self.client()
        to, frm, body = self.number(), "+15005550006", "Hello from the sandbox " + uuid.uuid4().hex[:6]
        m = client.messages.create(to=to, from_=frm, body=body)
        self.assertTrue(client.http_client.urls[-1].startswith(self.sandbox.base),
                        "the request went to the sandbox")
        self.assertTrue(m.sid and m.sid.startswith("SM"), f"field `sid` starts with SM, got {m.sid!r}")
        self.assertEqual(len(m.sid), 34, f"a message SID is SM + 32 hex, got {m.sid!r}")
        self.assertEqual(m.status, "queued", "field `status`")
        self.assertEqual(m.to, to, "field `to`")
        self.assertEqual(m.from_, frm, "field `from`")
        self.assertEqual(m.body, body, "field `body`")
        self.assertEqual(m.account_sid, TWILIO_SID, "field `account_sid`")
        self.assertIsNone(m.error_code, "field `error_code` (null)")
        self.assertIsNotNone(m.date_created,
                             "field `date_created` must be an RFC 2822 date (Twilio: 'Thu, 30 Jul 2015 "
                             "20:12:31 +0000'); the SDK turns anything else into None")
        got = self.sandbox.deliveries(provider="twilio", to=to)
        self.assertEqual(len(got), 1, f"one delivery for {to}: {got!r}")
        self.assertEqual(got[0].get("body"), body)
        self.assertEqual(got[0].get("from"), frm)

    def test_send_with_messaging_service_and_media(self):
        client = self.client()
        to = self.number()
        m = client.messages.create(to=to, messaging_service_sid="MG" + "0" * 32, body="with media",
                                   media_url=["https://example.com/a.png"])
        self.assertTrue(m.sid.startswith("SM"))
        self.assertEqual(m.status, "queued")
        self.assertEqual(len(self.sandbox.deliveries(provider="twilio", to=to)), 1)

    def assertAuthFailure(self, client, what):
        to = self.number()
        with self.assertRaises(TwilioRestException) as cm:
            client.messages.create(to=to, from_="+15005550006", body="must not be sent")
        e = cm.exception
        self.assertEqual(e.status, 401, f"{what}: HTTP status")
        self.assertEqual(e.code, 20003,
                         f'{what}: Twilio error body {{"code":20003,"message","more_info","status":401}} '
                         f"(SDK read code={e.code!r}, msg={e.msg!r})")
        self.assertEqual(self.sandbox.deliveries(provider="twilio", to=to), [], f"{what}: nothing delivered")

    def test_missing_token_is_20003(self):
        client = self.client(token=None)  # the SDK then sends no Authorization at all
        self.assertAuthFailure(client, "no credentials")

    def test_bad_account_sid_is_20003(self):
        self.assertAuthFailure(self.client(sid="AC123"), "SID not AC + 32 hex")

    def test_auth_user_must_match_path_sid(self):
        other = "AC" + "f" * 32
        self.assertAuthFailure(self.client(account_sid=other), "basic-auth user differs from the path's SID")

    def test_queued_429_is_20429(self):
        self.sandbox.queue_faults([{"status": 429, "retry_after": "1"}], provider="twilio")
        to = self.number()
        with self.assertRaises(TwilioRestException) as cm:
            self.client().messages.create(to=to, from_="+15005550006", body="rate limited")
        self.assertEqual(cm.exception.status, 429)
        self.assertEqual(cm.exception.code, 20429, "a Twilio 429 carries code 20429")
        self.assertEqual(self.sandbox.deliveries(provider="twilio", to=to), [])


if __name__ == "__main__":
    unittest.main()
