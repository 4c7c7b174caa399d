"""Every C library Package.swift links is installed by ops/install-deps.sh.

CI once passed only because libcurl4-openssl-dev had been installed by hand on its
machine; a newcomer's `make test` then stopped at `curl/curl.h: file not found`
(issue 11). This suite reads Package.swift's system-library targets and fails when the
install script would not bring what they need:

- each `providers: [.apt([...])]` package is in `ops/install-deps.sh --list`;
- each `pkgConfig:` name resolves, and the `.pc` file it resolves to belongs to a
  package that the script installs (so a package installed by hand cannot hide a gap);
- each system-library target that links through pkg-config names an apt provider.

It runs first in `make test`, before the build, with the system's python3 only.
"""
import os
import re
import shutil
import subprocess
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def system_libraries(manifest):
    """The `.systemLibrary(...)` targets of a Package.swift text, as dicts with
    name, pkgConfig (or None) and apt (a list)."""
    targets = []
    for match in re.finditer(r"\.systemLibrary\(", manifest):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(manifest)):
            if manifest[end] == "(":
                depth += 1
            elif manifest[end] == ")":
                depth -= 1
                if depth == 0:
                    break
        body = manifest[match.end():end]
        name = re.search(r'name:\s*"([^"]+)"', body)
        pkg = re.search(r'pkgConfig:\s*"([^"]+)"', body)
        apt = []
        for group in re.findall(r"\.apt\(\[([^\]]*)\]\)", body):
            apt += re.findall(r'"([^"]+)"', group)
        targets.append({"name": name.group(1) if name else "?", "pkgConfig": pkg.group(1) if pkg else None, "apt": apt})
    return targets


def gaps(targets, installed):
    """What install-deps.sh misses for these targets: a list of messages."""
    problems = []
    for t in targets:
        for p in t["apt"]:
            if p not in installed:
                problems.append(f"{t['name']}: Package.swift names apt package {p}, "
                                f"but ops/install-deps.sh never installs it (add it to `packages=`)")
        if t["pkgConfig"] and not t["apt"]:
            problems.append(f"{t['name']}: pkgConfig {t['pkgConfig']!r} has no `providers: [.apt([...])]`")
    return problems


def script_packages(*flags):
    out = subprocess.run(["bash", os.path.join(ROOT, "ops", "install-deps.sh"), "--list", *flags],
                         check=True, capture_output=True, text=True).stdout
    return set(out.split())


class InstallDepsCoversPackageSwift(unittest.TestCase):
    def setUp(self):
        with open(os.path.join(ROOT, "Package.swift")) as f:
            self.targets = system_libraries(f.read())
        self.installed = script_packages()

    def test_finds_the_system_library_targets(self):
        names = {t["name"] for t in self.targets}
        self.assertTrue({"CSQLite", "CCurl", "CMicroHTTPD", "CCrypto"} <= names, names)

    def test_every_apt_provider_is_installed_by_the_script(self):
        self.assertEqual(gaps(self.targets, self.installed), [])

    def test_every_pkg_config_name_comes_from_a_package_the_script_installs(self):
        if not shutil.which("pkg-config") or not shutil.which("dpkg"):
            self.skipTest("pkg-config or dpkg missing: run ops/install-deps.sh first")
        for t in self.targets:
            if not t["pkgConfig"]:
                continue
            with self.subTest(target=t["name"]):
                found = subprocess.run(["pkg-config", "--variable=pcfiledir", t["pkgConfig"]],
                                       capture_output=True, text=True)
                self.assertEqual(found.returncode, 0,
                                 f"pkg-config cannot find {t['pkgConfig']}: run ops/install-deps.sh")
                pc = os.path.join(found.stdout.strip(), t["pkgConfig"] + ".pc")
                owner = subprocess.run(["dpkg", "-S", os.path.realpath(pc)], capture_output=True, text=True)
                if owner.returncode != 0:  # /usr/lib vs /lib after the usrmerge
                    owner = subprocess.run(["dpkg", "-S", pc], capture_output=True, text=True)
                self.assertEqual(owner.returncode, 0, f"no package owns {pc}")
                packages = {p.split(":")[0].strip() for p in owner.stdout.split(":", 1)[0].split(",")}
                self.assertTrue(packages & self.installed,
                                f"{pc} comes from {sorted(packages)}, which ops/install-deps.sh does not install")

    def test_the_test_mode_installs_everything_the_build_mode_does(self):
        self.assertLessEqual(self.installed, script_packages("--test"))


class TheCheckCanFail(unittest.TestCase):
    """The checker itself, on manifests it must reject."""

    def test_reports_an_apt_provider_the_script_lacks(self):
        manifest = '''
            .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                           providers: [.apt(["libcurl4-openssl-dev"])]),
            .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),'''
        problems = gaps(system_libraries(manifest), {"libsqlite3-dev"})
        self.assertEqual(len(problems), 1)
        self.assertIn("libcurl4-openssl-dev", problems[0])

    def test_reports_a_pkg_config_name_without_a_provider(self):
        problems = gaps(system_libraries('.systemLibrary(name: "CLibPQ", pkgConfig: "libpq")'), set())
        self.assertEqual(len(problems), 1)
        self.assertIn("CLibPQ", problems[0])


if __name__ == "__main__":
    unittest.main()
