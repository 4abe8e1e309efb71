"""A new user's first hour, tried for real: README's main command on a copy of this tree, as a user
without root (setpriv), in a private mount namespace (unshare -m) that hides what a plain machine
lacks: root's pyenv shims and home, Debian's Python 3.11 and Debian's Fashion-MNIST. Its python3 is
one of the interpreters this package supports (each one found); the data come from a loopback
mirror, as the network gives them to a user. CI runs as root, which this needs to set the user up."""
import os
import shutil
import subprocess

from gluon_googlenet.base.numpy_aliases import LISTED_ONLY, STANDS_FOR, standalone_lines

import pytest
from conftest import serving

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPPORTED = ("3.9", "3.10", "3.11", "3.12", "3.13")
NOBODY = 65534

pytestmark = pytest.mark.slow


def _interpreter(version):
    """(pyenv prefix, binary) of Python ``version``, or None."""
    pyenv = shutil.which("pyenv")
    if not pyenv:
        return None
    versions = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True).stdout.split()
    found = sorted((v for v in versions if v.startswith(version + ".") and v.count(".") == 2),
                   key=lambda v: int(v.split(".")[2]))
    if not found:
        return None
    prefix = subprocess.run([pyenv, "prefix", found[-1]], capture_output=True, text=True).stdout.strip()
    binary = os.path.join(prefix, "bin", f"python{version}")
    return (prefix, binary) if os.path.isfile(binary) else None


def _can_isolate():
    return os.geteuid() == 0 and shutil.which("unshare") and shutil.which("setpriv")


@pytest.fixture(scope="module")
def isolation():
    if not _can_isolate():
        if os.environ.get("GLUON_GOOGLENET_REQUIRE_HOSTS"):
            pytest.fail("the first-hour test needs root, unshare and setpriv here")
        pytest.skip("needs root (to set up an unprivileged user in a private mount namespace), unshare, setpriv")


@pytest.fixture(scope="module")
def data_mirror(fashion_dir):
    """A loopback HTTP server of the real Fashion-MNIST files: its base URL."""
    with serving(fashion_dir) as url:
        yield url


@pytest.fixture(scope="module")
def base():
    """A folder the user can reach (pytest's own are root's alone), removed at the end."""
    import tempfile
    folder = tempfile.mkdtemp(prefix="first-hour-")
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def home(base):
    """The user's home, shared by the runs (pip's cache in it, as on one user's machine)."""
    folder = os.path.join(base, "home")
    os.makedirs(folder)
    os.chown(folder, NOBODY, NOBODY)
    return folder


def _copy_tree(target):
    """The repository's files (tracked and new, as in a clone of this tree), owned by the user."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):
            os.makedirs(os.path.join(target, os.path.dirname(name)), exist_ok=True)
            shutil.copy2(source, os.path.join(target, name))
    for folder, dirs, files in os.walk(target):
        for name in [folder] + [os.path.join(folder, f) for f in dirs + files]:
            os.chown(name, NOBODY, NOBODY)


def _as_new_user(script, prefix, binary, home, env, timeout):  # noqa: PLR0913
    """Run bash ``script`` as the unprivileged user in a private mount namespace whose python3 is
    ``binary`` (its pyenv ``prefix`` kept at its path; the rest of root's home hidden) and which has
    neither Debian's Python 3.11 nor its Fashion-MNIST."""
    bin_dir = os.path.join(str(home), ".local-python-bin")
    os.makedirs(bin_dir, exist_ok=True)
    for name in ("python3", os.path.basename(binary)):
        link = os.path.join(bin_dir, name)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(binary, link)
    stage = os.path.join(str(home), ".stage")
    os.makedirs(stage, exist_ok=True)
    hide = "\n".join(f"[ -e {path} ] && mount --bind /dev/null {path}"
                     for path in ("/usr/bin/python3.11", "/usr/local/bin/python3.11"))
    namespace = f"""set -e
mount --make-rprivate /
[ -d /usr/share/datasets ] && mount -t tmpfs -o mode=755 tmpfs /usr/share/datasets
{hide}
mount --bind {prefix} {stage}
mount -t tmpfs -o mode=755 tmpfs /root
mkdir -p {prefix}
mount --move {stage} {prefix}
cd {home}
exec setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups env -i HOME={home} \
  PATH={bin_dir}:/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 {' '.join(f'{k}={v}' for k, v in env.items())} \
  bash -c {_quote(script)}
"""
    return subprocess.run(["unshare", "-m", "bash", "-c", namespace], capture_output=True, text=True,
                          timeout=timeout)


def _quote(text):
    import shlex
    return shlex.quote(text)


@pytest.mark.parametrize("version", SUPPORTED)
def test_the_main_job_runs_for_a_new_user_without_root_or_debian_data(version, isolation, data_mirror, base,
                                                                      home):
    found = _interpreter(version)
    if found is None:
        pytest.skip(f"no Python {version} here (pyenv)")
    prefix, binary = found
    clone = os.path.join(base, f"clone-{version}")
    _copy_tree(clone)
    result = _as_new_user(f"cd {clone} && bash scripts/main.sh --epochs 1 --limit-train 1024 --limit-test 500 "
                          "--checkpoint-every 0", prefix, binary, home,
                          {"GLUON_GOOGLENET_DATA_MIRRORS": data_mirror,  # each run its own data folder
                           "MXNET_HOME": os.path.join(home, f".mxnet-{version}")}, timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert f"setup: creating {clone}/.venv with {home}/.local-python-bin/python3" in out
    assert f"setup: Python {version}." in out
    assert "fashion-mnist not found: downloading it into" in out
    assert len(os.listdir(os.path.join(home, f".mxnet-{version}", "datasets", "fashion-mnist"))) == 4
    lines = out.strip().splitlines()
    main = next(i for i, line in enumerate(lines) if line.startswith("main: test acc "))
    assert "(the exported model's, flip averaging in its graph)" in lines[main]
    assert lines[main + 1].startswith("model: runs/main/googlenet_d2l_bn-best-symbol.json and "
                                      "runs/main/googlenet_d2l_bn-best-0001.params (input 'data' 1x1x28x28 (NCHW), "
                                      "grey in [0, 1]")
    aliases = {"3.12": ["  import numpy; numpy.bool, numpy.int = bool, int  # numpy>=1.24 dropped these; MXNet "
                        "1.9.1 reads them"],
               "3.13": ["  " + line for line in standalone_lines(  # numpy 2 lacks all but bool
                   [name for name in (*STANDS_FOR, *LISTED_ONLY) if name != "bool"])]}.get(version, [])
    assert lines[main + 2:] == [
        "load it in plain MXNet:", *aliases, "  import mxnet as mx",
        "  net = mx.gluon.SymbolBlock.imports('runs/main/googlenet_d2l_bn-best-symbol.json', ['data'], "
        "'runs/main/googlenet_d2l_bn-best-0001.params')",
        "  logits = net(mx.nd.zeros((1, 1, 28, 28)))"]
    snippet = "\n".join(line[2:] for line in lines[main + 3:]) + "\nprint(logits.shape)"  # as the user pastes it
    loaded = subprocess.run([os.path.join(clone, ".venv", "bin", "python"), "-c", snippet], cwd=clone,
                            capture_output=True, text=True, timeout=120)
    assert loaded.stdout.strip() == "(1, 10)", loaded.stderr[-2000:]


def test_no_supported_python_is_one_line_naming_the_routes(isolation, base, home):
    found = _interpreter("3.8")
    if found is None:
        pytest.skip("no Python 3.8 here (pyenv) to stand for an unsupported python3")
    clone = os.path.join(base, "clone-3.8")
    _copy_tree(clone)
    result = _as_new_user(f"cd {clone} && bash scripts/setup.sh", *found, home, {}, timeout=120)
    assert result.returncode == 1
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("setup: no Python 3.9-3.13 here (python3 is 3.8)"), err
    assert "uv python install 3.12" in err[0] and "conda create -n d2l python=3.9" in err[0]
