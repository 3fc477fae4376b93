"""The shape of the package: its layers, no import cycle, and what a wheel and an install give.

- the import-linter contracts of pyproject.toml ([tool.importlinter]) are kept;
- no import cycle among the package's modules, counting the imports written inside functions
  (which import-linter's layers do count, but a cycle among them is not a layer breach);
- slow: the wheel holds only lanhmanh/... (modules, the shipped packs, the data files) and the
  console script; `pip install .` into a fresh venv gives a `lanhmanh` that runs from any folder.
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent  # the repository root is the lanhmanh package
PYPROJECT = REPO / "pyproject.toml"
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
                                    ".hypothesis")


def _env(**over: str) -> dict[str, str]:
    """The environment of a child process: no PYTHONPATH (nothing but what is installed is found)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(over)
    return env


# ---- import-linter ----------------------------------------------------------------------------------

def test_import_linter_contracts_are_kept(tmp_path):
    """`lint-imports` on pyproject.toml, run from a folder outside the repository (the package is
    found where it is installed, as the tool is meant to be run)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                               "sys.exit(lint_imports_command())",
         str(PYPROJECT), "--no-cache", "--no-logo"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=_env())
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "broken" in out and " 0 broken" in out, out


# ---- no import cycle ----------------------------------------------------------------------------------

def package_modules(root: Path = REPO) -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package's __init__) of every module of the package: the .py files
    of the root and of every folder below it that is a package (has an __init__.py); tests/, bench/,
    tools/, docs/ and examples/ are not."""
    mods: dict[str, tuple[Path, bool]] = {}

    def visit(folder: Path, parts: list[str]) -> None:
        for f in sorted(folder.iterdir()):
            if f.is_dir():
                if (f / "__init__.py").is_file() and f.name.isidentifier():
                    visit(f, parts + [f.name])
            elif f.suffix == ".py":
                is_init = f.name == "__init__.py"
                mods[".".join(parts + ([] if is_init else [f.stem]))] = (f, is_init)

    visit(root, ["lanhmanh"])
    return mods


def import_graph(mods: dict[str, tuple[Path, bool]]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Edges module -> modules it imports (anywhere in the file: top level, inside functions, under
    `if TYPE_CHECKING`), and the subset written inside functions. `from P import N` points at P.N when
    that is a module, else at P."""
    edges: dict[str, set[str]] = defaultdict(set)
    in_functions: dict[str, set[str]] = defaultdict(set)
    for m, (path, is_init) in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        pkg = m if is_init else m.rsplit(".", 1)[0]

        def add(target: str, in_function: bool, m: str = m) -> None:
            if target in mods and target != m:
                edges[m].add(target)
                if in_function:
                    in_functions[m].add(target)

        def walk(node: ast.AST, in_function: bool, pkg: str = pkg) -> None:
            for child in ast.iter_child_nodes(node):
                inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, ast.ImportFrom):
                    if child.level:
                        base = pkg.split(".")
                        base = base[:len(base) - child.level + 1]
                        target = ".".join(base + ([child.module] if child.module else []))
                    else:
                        target = child.module or ""
                    for alias in child.names:
                        sub = f"{target}.{alias.name}"
                        add(sub if sub in mods else target, inside)
                elif isinstance(child, ast.Import):
                    for alias in child.names:
                        add(alias.name, inside)
                walk(child, inside)

        walk(tree, False)
    return edges, in_functions


def cycles(nodes, edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
    """The checker itself, on a made-up package: a -> b at the top, b -> a inside a function."""
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "__init__.py").write_text("")
    (tmp_path / "a.py").write_text("from lanhmanh.sub import b\n")
    (tmp_path / "sub" / "b.py").write_text("def f():\n    from .. import a\n    return a\n")
    (tmp_path / "c.py").write_text("from . import a\n")
    (tmp_path / "notes").mkdir()  # not a package: not walked
    (tmp_path / "notes" / "x.py").write_text("import lanhmanh.c\n")
    mods = package_modules(tmp_path)
    assert set(mods) == {"lanhmanh", "lanhmanh.a", "lanhmanh.c", "lanhmanh.sub", "lanhmanh.sub.b"}
    edges, in_functions = import_graph(mods)
    assert in_functions["lanhmanh.sub.b"] == {"lanhmanh.a"}
    assert cycles(mods, edges) == [["lanhmanh.a", "lanhmanh.sub.b"]]


def test_no_import_cycle_among_the_package_modules():
    mods = package_modules()
    assert {"lanhmanh", "lanhmanh.cli", "lanhmanh.engine"} <= set(mods), sorted(mods)
    assert not any(m.startswith(("lanhmanh.tests", "lanhmanh.bench", "lanhmanh.tools")) for m in mods)
    edges, in_functions = import_graph(mods)
    found = cycles(mods, edges)
    report = []
    for comp in found:
        report.append("cycle: " + ", ".join(comp))
        for m in comp:
            inside = sorted(t for t in edges[m] if t in comp)
            lazy = sorted(t for t in in_functions[m] if t in comp)
            report.append(f"    {m} -> {inside}" + (f" (inside functions: {lazy})" if lazy else ""))
    assert not found, "\n".join(report)


# ---- the wheel and an install (slow: they build, and pip installs the dependencies) -----------------

def source_copy(tmp_path: Path) -> Path:
    """The repository's files, without a venv, build output or caches: building in a copy leaves
    no build/ or egg-info behind in the checkout."""
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=NOT_SOURCE, symlinks=True)
    return src


def pip(python: Path | str, *args: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=_env())
    assert proc.returncode == 0, f"pip {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.mark.slow
def test_the_wheel_holds_the_package_and_nothing_else(tmp_path):
    src = source_copy(tmp_path)
    out = tmp_path / "wheel"
    built = pip(sys.executable, "wheel", ".", "--no-deps", "-w", str(out), "-q", cwd=src)
    # every folder shipped is a package setuptools was told of (the catalogue's folders included)
    assert "absent from the `packages` configuration" not in built.stdout + built.stderr, built.stderr[-3000:]
    wheels = list(out.glob("lanhmanh-*.whl"))
    assert len(wheels) == 1, list(out.iterdir())
    with zipfile.ZipFile(wheels[0]) as z:
        names = z.namelist()
        dist_info = [n for n in names if n.split("/")[0].endswith(".dist-info")]
        entry_points = next((z.read(n).decode() for n in dist_info if n.endswith("/entry_points.txt")), "")
    package = [n for n in names if n not in dist_info]

    # only the package, and no folder of the repository that is not part of it
    assert package and all(n.startswith("lanhmanh/") for n in package), \
        [n for n in package if not n.startswith("lanhmanh/")]
    for folder in ("tests", "bench", "tools", "docs", "examples", "build", ".ci", ".venv"):
        assert not [n for n in package if n.startswith(f"lanhmanh/{folder}/")], folder
    assert not [n for n in package if "__pycache__" in n or n.endswith((".pyc", ".md", ".toml", ".sh"))]
    # every module of the package, the shipped packs and the data files
    modules = {f"lanhmanh/{p.relative_to(REPO).as_posix()}" for p, _ in package_modules().values()}
    assert modules <= set(package), sorted(modules - set(package))
    packs = {f"lanhmanh/rules/{p.name}" for p in (REPO / "rules").glob("*.yaml")}
    assert packs and packs <= set(package), sorted(packs - set(package))
    data = {f"lanhmanh/data/{p.name}" for p in (REPO / "data").iterdir() if p.name.endswith((".csv.gz", ".json"))}
    assert data and data <= set(package), sorted(data - set(package))
    # the compiled message catalogue (Vietnamese), not its .po source
    catalogue = {"lanhmanh/locale/vi/LC_MESSAGES/lanhmanh.mo"}
    assert catalogue <= set(package), sorted(catalogue - set(package))
    assert set(package) <= modules | packs | data | catalogue, sorted(set(package) - modules - packs - data - catalogue)
    # the console script
    assert "[console_scripts]" in entry_points and "lanhmanh = lanhmanh.cli:main" in entry_points, entry_points


@pytest.mark.slow
def test_pip_install_into_a_fresh_venv_gives_a_working_command(tmp_path):
    src = source_copy(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300, env=_env())
    scripts = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = scripts / ("python.exe" if sys.platform == "win32" else "python")
    pip(python, "install", "-q", ".", cwd=src, timeout=1800)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = subprocess.run([str(scripts / "lanhmanh"), "--help"], cwd=elsewhere, capture_output=True, text=True,
                         timeout=300, env=_env(PATH=f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Usage" in run.stdout and "score" in run.stdout, run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    # with no language set, the installed copy speaks Vietnamese: its catalogue was installed
    vi = subprocess.run([str(scripts / "lanhmanh"), "score", "--help"], cwd=elsewhere, capture_output=True,
                        text=True, timeout=300, env={k: v for k, v in _env().items() if k != "LANHMANH_LANG"})
    assert vi.returncode == 0 and "Cách dùng:" in vi.stdout and "Chấm điểm mọi đơn vị" in vi.stdout, vi.stdout
    # the installed copy answers, not the checkout
    where = subprocess.run([str(python), "-c", "import lanhmanh, lanhmanh.rules as r; print(lanhmanh.__file__); "
                            "print(r.__file__)"], cwd=elsewhere, capture_output=True, text=True, timeout=120,
                           env=_env())
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).resolve().is_relative_to(venv.resolve()), where.stdout
