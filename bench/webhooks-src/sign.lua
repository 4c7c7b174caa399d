-- bench/webhooks-src/sign.lua: a wrk script that signs every request the way baton's
-- webhooks want it (docs/http.md): X-Baton-Timestamp (Unix seconds) and
-- X-Baton-Signature: sha256=HEX of HMAC-SHA256(secret, TIMESTAMP "." BODY).
-- wrk has no crypto, so SHA-256 is written here on LuaJIT's `bit` module.
--
-- Every body is unique ({"n":COUNTER,"t":THREAD}): baton refuses a second arrival of
-- the same timestamp and signature as a replay.
--
-- Environment:
--   BATON_WEBHOOK_SECRET    the key (required)
--   BENCH_QUOTA             stop each thread after this many responses (0: no limit);
--                           counting responses needs wrk's slower response() callback,
--                           so it is only defined when a quota is asked for
--   BENCH_REPORT            with a quota: the file each thread appends
--                           "TID ACCEPTED REFUSED" to when it stops (wrk itself keeps
--                           sleeping for its -d duration, so the bench watches this)
--   BENCH_SELFCHECK=1       print the HMAC of fixed inputs ("LEN KEYLEN HEX" lines)
--                           and exit, for the bench to compare with Python's hmac
--
-- done() prints one line the bench parses: "WRK key=value ...".

local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror, tobit, tohex = bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex
local byte, char, format, concat = string.byte, string.char, string.format, table.concat

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
for i = 1, 64 do K[i] = tobit(K[i]) end
local IV = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
for i = 1, 8 do IV[i] = tobit(IV[i]) end

local W = {}  -- the message schedule, reused: one compression at a time per Lua state

-- One SHA-256 compression of W[1..16] into the state H (8 words, updated in place).
-- Sums of five 32-bit values stay exact in a double; tobit wraps them mod 2^32.
local function compress(H)
  local w = W
  for i = 17, 64 do
    local x, y = w[i - 15], w[i - 2]
    local s0 = bxor(ror(x, 7), ror(x, 18), rshift(x, 3))
    local s1 = bxor(ror(y, 17), ror(y, 19), rshift(y, 10))
    w[i] = tobit(w[i - 16] + s0 + w[i - 7] + s1)
  end
  local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
  for i = 1, 64 do
    local s1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
    local ch = bxor(band(e, f), band(bnot(e), g))
    local t1 = h + s1 + ch + K[i] + w[i]
    local s0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
    local maj = bxor(band(a, b), band(a, c), band(b, c))
    h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + s0 + maj)
  end
  H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
  H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
end

-- SHA-256 of `msg`, continuing from `start` (a state after `prefix` bytes already hashed,
-- a multiple of 64). Returns the 8 words of the digest.
local function sha256_words(start, prefix, msg)
  local H = { start[1], start[2], start[3], start[4], start[5], start[6], start[7], start[8] }
  local len = #msg
  -- Padding: 0x80, zeros to 56 mod 64, the bit length as 64 bits big-endian.
  local zeros = (55 - len) % 64
  local bits = (prefix + len) * 8
  local hi = math.floor(bits / 4294967296)
  local data = msg .. "\128" .. string.rep("\0", zeros)
    .. char(band(rshift(hi, 24), 255), band(rshift(hi, 16), 255), band(rshift(hi, 8), 255), band(hi, 255))
    .. char(band(rshift(bits, 24), 255), band(rshift(bits, 16), 255), band(rshift(bits, 8), 255), band(bits, 255))
  for off = 1, #data, 64 do
    for j = 0, 15 do
      local p = off + j * 4
      local b1, b2, b3, b4 = byte(data, p, p + 3)
      W[j + 1] = bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)
    end
    compress(H)
  end
  return H
end

local function words_to_bytes(H)
  local out = {}
  for i = 1, 8 do
    local v = H[i]
    out[i] = char(band(rshift(v, 24), 255), band(rshift(v, 16), 255), band(rshift(v, 8), 255), band(v, 255))
  end
  return concat(out)
end

local function words_to_hex(H)
  local out = {}
  for i = 1, 8 do out[i] = tohex(H[i], 8) end
  return concat(out)
end

-- An HMAC-SHA256 signer for one key: the states after the key's inner and outer pad
-- blocks are computed once, so each message costs two or three compressions.
local function hmac_signer(key)
  if #key > 64 then key = words_to_bytes(sha256_words(IV, 0, key)) end
  key = key .. string.rep("\0", 64 - #key)
  local function pad_state(x)
    local H = { IV[1], IV[2], IV[3], IV[4], IV[5], IV[6], IV[7], IV[8] }
    for j = 0, 15 do
      local b1, b2, b3, b4 = byte(key, j * 4 + 1, j * 4 + 4)
      W[j + 1] = bor(lshift(bxor(b1, x), 24), lshift(bxor(b2, x), 16), lshift(bxor(b3, x), 8), bxor(b4, x))
    end
    compress(H)
    return H
  end
  local inner, outer = pad_state(0x36), pad_state(0x5c)
  return function(msg)
    return words_to_hex(sha256_words(outer, 64, words_to_bytes(sha256_words(inner, 64, msg))))
  end
end

local secret = os.getenv("BATON_WEBHOOK_SECRET")
if not secret or secret == "" then
  io.stderr:write("sign.lua: BATON_WEBHOOK_SECRET is not set\n")
  os.exit(2)
end

if os.getenv("BENCH_SELFCHECK") == "1" then
  -- Messages of byte i = (7*i + 3) mod 256, at every length around the block and
  -- padding boundaries, under the bench's secret and a key longer than a block.
  local function message(len)
    local t = {}
    for i = 0, len - 1 do t[i + 1] = char((7 * i + 3) % 256) end
    return concat(t)
  end
  local long_key = string.rep("k", 100)
  for _, key in ipairs({ secret, long_key }) do
    local sign = hmac_signer(key)
    for len = 0, 200 do io.write(format("%d %d %s\n", len, #key, sign(message(len)))) end
  end
  local ts = "1764064694"
  local body = '{"n":1,"t":1}'
  io.write(format("example %s %s\n", ts .. "." .. body, hmac_signer(secret)(ts .. "." .. body)))
  os.exit(0)
end

local sign = hmac_signer(secret)
local quota = tonumber(os.getenv("BENCH_QUOTA") or "0") or 0
local report = os.getenv("BENCH_REPORT")

-- Main Lua state: number the threads and keep them for done().
local threads, next_id = {}, 1
function setup(thread)
  thread:set("tid", next_id)
  threads[next_id] = thread
  next_id = next_id + 1
end

-- Thread Lua states from here on.
local counter = 0
accepted, refused, answered = 0, 0, 0

function request()
  counter = counter + 1
  local body = format('{"n":%d,"t":%d}', counter, tid)
  local ts = tostring(os.time())
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Baton-Timestamp"] = ts,
    ["X-Baton-Signature"] = "sha256=" .. sign(ts .. "." .. body),
  }
  return wrk.format("POST", nil, headers, body)
end

if quota > 0 then
  function response(status, headers, body)
    answered = answered + 1
    if status == 202 then accepted = accepted + 1 else refused = refused + 1 end
    if answered == 1 and status ~= 202 then
      io.stderr:write(format("sign.lua: first answer %d: %s\n", status, body))
    end
    -- aeStop ends the loop after this pass, so later answers may still come: once.
    if answered == quota then
      if report then
        local f = io.open(report, "a")
        f:write(format("%d %d %d\n", tid, accepted, refused))
        f:close()
      end
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local acc, ref = 0, 0
  for _, t in ipairs(threads) do
    acc = acc + (t:get("accepted") or 0)
    ref = ref + (t:get("refused") or 0)
  end
  io.write(format("WRK requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d "
    .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d counted_202=%d counted_other=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, acc, ref))
end
