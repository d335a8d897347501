"""The package's import graph, read from its source with ``ast``: the layers import downward
only, without circles, without another module's private names, and at the top of a module
except the few imports that are lazy for a stated reason; no name shadows a module.

Layers, lowest first (a module may import its own folder and any layer below it)::

    base (config, paths, errors, storage, progress) < synthetic < audio < corpora < features
    < evaluation < traditional, deep, reports < experiments < app

Lazy imports: TensorFlow, openSMILE and Dask, and a module of the package that imports them
(directly or through others), may be imported inside a function; so may papermill (an
optional extra), three libraries that take a second to import and serve one step each
(noisereduce, seaborn, librosa.display) and librosa's modules whose import compiles numba
kernels; the ``app`` layer imports each command's stage when the command runs, so that
``ser --help`` and ``ser predict`` start without the rest. Every import inside a function
carries a comment that says why.

``python tests/test_architecture.py`` prints the counts.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ser_utils"
BASE = ("config", "paths", "errors", "storage", "progress")
#: Layer of each top-level part of the package, lowest first; parts of one layer do not import
#: each other (base modules aside: they are one layer).
LAYERS: dict[str, int] = {
    **dict.fromkeys(BASE, 0),
    "synthetic": 1,
    "audio": 2,
    "corpora": 3,
    "features": 4,
    "evaluation": 5,
    "traditional": 6,
    "deep": 6,
    "reports": 6,
    "experiments": 7,
    "app": 8,
}
#: Libraries that make a module heavy to import: a module that imports them may itself be
#: imported inside a function.
HEAVY_LIBRARIES = ("tensorflow", "keras", "opensmile", "dask", "distributed")
#: Libraries that may be imported inside a function: the heavy ones, an optional extra
#: (papermill), three that take a second to import and serve one step each (noise reduction,
#: the confusion heatmap, librosa's figure helpers), and librosa's modules whose import compiles
#: numba kernels (compiled once, before worker processes start: ser_utils.audio.kernels).
LAZY_LIBRARIES = (
    *HEAVY_LIBRARIES,
    "papermill",
    "noisereduce",
    "seaborn",
    "librosa.display",
    "librosa.core",
)


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module of the package, or a library's module
    names: tuple[str, ...]
    line: int
    in_function: bool
    commented: bool

    @property
    def internal(self) -> bool:
        return self.target == "ser_utils" or self.target.startswith("ser_utils.")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


MODULES = read_modules()


def _resolve(importer: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _commented(lines: list[str], first: ast.stmt, node: ast.stmt) -> bool:
    """A comment on the import's own lines, or on the line before the run of imports it ends."""
    own = lines[node.lineno - 1 : node.end_lineno]
    before = lines[first.lineno - 2].strip() if first.lineno > 1 else ""
    return any("#" in line for line in own) or before.startswith("#")


def _walk(tree: ast.AST, in_function: bool = False):
    """Import statements, with the first import of the run of consecutive imports each belongs
    to and whether it sits inside a function."""
    for field in ("body", "orelse", "finalbody", "handlers"):
        first = None
        for node in getattr(tree, field, []):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                first = first or node
                yield node, first, in_function
                continue
            first = None
            inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            yield from _walk(node, inside)


def read_imports() -> list[Import]:
    """Every import statement of the package: one entry per imported module (the package's, or
    a library's), with the names taken from it."""
    imports = []
    for name, path in MODULES.items():
        source = path.read_text()
        lines = source.splitlines()
        is_package = path.name == "__init__.py"
        for node, first, in_function in _walk(ast.parse(source)):
            where = dict(
                line=node.lineno, in_function=in_function, commented=_commented(lines, first, node)
            )
            if isinstance(node, ast.Import):
                imports += [Import(name, alias.name, (), **where) for alias in node.names]
                continue
            target = _resolve(name, node, is_package)
            if not target.startswith("ser_utils"):
                imports.append(Import(name, target, tuple(a.name for a in node.names), **where))
                continue
            # `from package import submodule` imports the submodule; other names come from `target`
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in MODULES:
                    imports.append(Import(name, submodule, (), **where))
                else:
                    imports.append(Import(name, target, (alias.name,), **where))
    return imports


IMPORTS = read_imports()


def _library(target: str, names: tuple[str, ...]) -> bool:
    """True when ``target`` is one of the libraries ``names`` or a module of one."""
    return any(target == name or target.startswith(f"{name}.") for name in names)


def part(module: str) -> str:
    """The top-level part of the package a module belongs to (``ser_utils.deep.models.x`` -> deep)."""
    return module.split(".")[1] if module.count(".") else "ser_utils"


def layer(module: str) -> int:
    return LAYERS.get(part(module), -1)


def heavy_modules() -> set[str]:
    """Modules that import TensorFlow, openSMILE or Dask at their top, directly or through others."""
    heavy = {
        i.importer
        for i in IMPORTS
        if not i.internal and not i.in_function and _library(i.target, HEAVY_LIBRARIES)
    }
    changed = True
    while changed:
        changed = False
        for i in IMPORTS:
            if i.internal and not i.in_function and i.target in heavy and i.importer not in heavy:
                heavy.add(i.importer)
                changed = True
    return heavy


HEAVY = heavy_modules()


def import_circles() -> list[list[str]]:
    """Strongly connected groups of more than one module in the import graph (Tarjan)."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for i in IMPORTS:
        if i.internal and i.target in graph and i.target != i.importer:
            graph[i.importer].add(i.target)
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return circles


def upward_imports() -> list[str]:
    found = []
    for i in IMPORTS:
        if not i.internal or i.target == "ser_utils":
            continue
        source, target = part(i.importer), part(i.target)
        if source == target or (source in BASE and target in BASE):
            continue
        if layer(i.target) >= layer(i.importer):
            found.append(
                f"{i.importer}:{i.line} imports {i.target} ({target} is not below {source})"
            )
    return found


def private_imports() -> list[str]:
    found = []
    for i in IMPORTS:
        if not i.internal:
            continue
        leaf = i.target.rsplit(".", 1)[-1]
        outside = not i.importer.startswith(i.target.rsplit(".", 1)[0] + ".")
        if leaf.startswith("_") and outside:
            found.append(f"{i.importer}:{i.line} imports the private module {i.target}")
        for name in i.names:
            if name.startswith("_") and i.target != i.importer:
                found.append(f"{i.importer}:{i.line} imports {i.target}.{name}")
    return found


def unexplained_lazy_imports() -> list[str]:
    found = []
    for i in IMPORTS:
        if not i.in_function:
            continue
        where = f"{i.importer}:{i.line} imports {i.target} inside a function"
        if i.internal:
            allowed = i.target in HEAVY or part(i.importer) == "app"
        else:
            allowed = _library(i.target, LAZY_LIBRARIES)
        if not allowed:
            found.append(f"{where}: import it at the top")
        elif not i.commented:
            found.append(f"{where} without a comment saying why")
    return found


def module_names() -> set[str]:
    return {module.rsplit(".", 1)[-1] for module in MODULES}


def shadowing_names() -> list[str]:
    """Module-level definitions named like a module of the package, and function parameters or
    locals that rebind a module the same file imports."""
    leaves, found = module_names(), []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        imported_modules = {
            i.target.rsplit(".", 1)[-1]
            for i in IMPORTS
            if i.importer == name and i.internal and not i.in_function and not i.names
        }
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in leaves:
                found.append(f"{name}:{node.lineno} defines {node.name}, the name of a module")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args.args + node.args.kwonlyargs + node.args.posonlyargs
                for argument in arguments:
                    if argument.arg in imported_modules:
                        found.append(
                            f"{name}:{node.lineno} {node.name}() takes {argument.arg}, a module it imports"
                        )
    return found


# --------------------------------------------------------------------------- the tests
def test_the_package_is_read_whole():
    assert {
        "ser_utils.config",
        "ser_utils.evaluation.cross_validation",
        "ser_utils.app.cli",
    } <= set(MODULES)
    assert len(IMPORTS) > 100


def test_no_import_circles():
    assert import_circles() == []


def test_layers_import_downward_only():
    assert upward_imports() == []


def test_no_module_imports_another_modules_private_names():
    assert private_imports() == []


def test_imports_sit_at_the_top_except_the_lazy_ones_with_their_reason():
    assert unexplained_lazy_imports() == []


def test_no_name_shadows_a_module():
    assert shadowing_names() == []


def test_importing_the_data_layers_loads_no_tensorflow():
    data_layers = {
        "config",
        "paths",
        "storage",
        "audio",
        "corpora",
        "features",
        "evaluation",
        "traditional",
        "reports",
        "experiments",
        "app",
    }
    assert sorted(m for m in HEAVY if part(m) in data_layers) == []


@pytest.mark.parametrize(
    "finder, planted",
    [
        (
            upward_imports,
            Import(
                "ser_utils.audio.reading", "ser_utils.evaluation.metrics", ("x",), 1, False, False
            ),
        ),
        (
            private_imports,
            Import(
                "ser_utils.deep.training", "ser_utils.deep.views", ("_helper",), 1, False, False
            ),
        ),
        (
            unexplained_lazy_imports,
            Import("ser_utils.features.cache", "ser_utils.audio.reading", ("x",), 1, True, True),
        ),
        (
            unexplained_lazy_imports,
            Import(
                "ser_utils.experiments.network", "ser_utils.deep.training", ("x",), 1, True, False
            ),
        ),
    ],
)
def test_each_rule_finds_what_breaks_it(monkeypatch, finder, planted):
    monkeypatch.setattr(sys.modules[__name__], "IMPORTS", [*IMPORTS, planted])
    assert len(finder()) == 1


def test_an_import_circle_is_found(monkeypatch):
    planted = [
        Import("ser_utils.paths", "ser_utils.storage", ("x",), 1, False, False),
        Import("ser_utils.storage", "ser_utils.paths", ("y",), 1, False, False),
    ]
    monkeypatch.setattr(sys.modules[__name__], "IMPORTS", [*IMPORTS, *planted])
    assert ["ser_utils.paths", "ser_utils.storage"] in import_circles()


def structure() -> str:
    """The counts a reader checks: circles, upward imports, private imports, unexplained lazy
    imports, shadowed modules, and the longest modules."""
    longest = sorted(
        ((len(path.read_text().splitlines()), name) for name, path in MODULES.items()), reverse=True
    )[:5]
    return "\n".join(
        [
            f"{len(MODULES)} modules, {sum(i.internal for i in IMPORTS)} imports of the package's own",
            f"import circles: {len(import_circles())}",
            f"upward imports: {len(upward_imports())}",
            f"imports of private names: {len(private_imports())}",
            f"imports inside functions without their reason: {len(unexplained_lazy_imports())}",
            f"names that shadow a module: {len(shadowing_names())}",
            "longest: " + ", ".join(f"{name} {lines}" for lines, name in longest),
        ]
    )


if __name__ == "__main__":
    print(structure())
