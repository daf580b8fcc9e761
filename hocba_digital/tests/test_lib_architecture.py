"""The shape of lib/, read from its source with ``ast`` (no import, no database).

lib/ is pure Python in rooms (docs/architecture.md): no Odoo, no private name
of one module used by another, no import cycle, and each room imports only
the rooms below it.
"""

import ast
import os

from odoo.tests import BaseCase, tagged

LIB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")

# room -> the rooms of lib/ it may import ("secret" is lib/secret.py)
ALLOWED = {
    "rules": set(),
    "secret": set(),
    "workbooks": {"rules"},
    "documents": {"rules"},
    "signing": {"documents", "rules", "secret"},
    "exchange": {"signing", "documents"},
    "population": {"rules", "workbooks", "secret"},
    "sandbox": {"rules", "documents", "signing", "exchange", "population", "workbooks", "secret"},
}


def _modules():
    """{dotted name under lib: (path, is a package __init__)}."""
    found = {}
    for folder, dirs, files in os.walk(LIB):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            parts = os.path.relpath(path, LIB)[:-3].split(os.sep)
            package = parts[-1] == "__init__"
            if package:
                parts = parts[:-1]
            found[".".join(["lib"] + parts)] = (path, package)
    return found


def _resolve(module, package, node):
    """Absolute dotted base of a ``from ... import`` in ``module``."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _room(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


class _Lib:
    def __init__(self):
        self.modules = _modules()
        self.trees = {}
        for name, (path, _package) in self.modules.items():
            with open(path, encoding="utf-8") as handle:
                self.trees[name] = ast.parse(handle.read(), path)

    def _known(self, dotted):
        return dotted if dotted in self.modules else None

    def imports(self, name, module_level_only=True):
        """[(line, imported lib module, names taken from it or None)] of ``name``."""
        package = self.modules[name][1]
        tree = self.trees[name]
        if module_level_only:  # what runs at import: also inside module-level if/try blocks
            nodes = [
                n
                for top in tree.body
                if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                for n in ast.walk(top)
            ]
        else:
            nodes = list(ast.walk(tree))
        found = []
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "odoo":
                        found.append((node.lineno, alias.name, None))
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, package, node)
                if base.split(".")[0] == "odoo":
                    found.append((node.lineno, base, None))
                    continue
                for alias in node.names:
                    sub = self._known(base + "." + alias.name)
                    if sub:  # "from . import chain": the module itself
                        found.append((node.lineno, sub, None))
                    elif self._known(base):
                        found.append((node.lineno, base, alias.name))
        return found

    def module_aliases(self, name):
        """{local name: lib module} bound by the imports of ``name``."""
        package = self.modules[name][1]
        aliases = {}
        for node in ast.walk(self.trees[name]):
            if isinstance(node, ast.ImportFrom):
                base = _resolve(name, package, node)
                for alias in node.names:
                    sub = self._known(base + "." + alias.name)
                    if sub:
                        aliases[alias.asname or alias.name] = sub
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and self._known(alias.name):
                        aliases[alias.asname] = alias.name
        return aliases


@tagged("post_install", "-at_install")
class TestLibArchitecture(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lib = _Lib()

    def test_the_modules_are_found(self):
        self.assertIn("lib.signing.verification", self.lib.modules)
        self.assertIn("lib.documents.xml_profile", self.lib.modules)
        self.assertEqual(self.lib.modules["lib.documents.xml_profile"][1], True)

    def test_no_odoo_in_lib(self):
        found = [
            "%s:%d %s" % (name, line, target)
            for name in self.lib.modules
            for line, target, _what in self.lib.imports(name, module_level_only=False)
            if target.split(".")[0] == "odoo"
        ]
        self.assertEqual(found, [])

    def test_no_private_name_of_another_module(self):
        found = []
        for name in self.lib.modules:
            for line, target, what in self.lib.imports(name, module_level_only=False):
                if what and what.startswith("_") and target != name:
                    found.append("%s:%d from %s import %s" % (name, line, target, what))
            aliases = self.lib.module_aliases(name)
            for node in ast.walk(self.lib.trees[name]):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in aliases
                    and node.attr.startswith("_")
                    and not node.attr.startswith("__")
                ):
                    found.append("%s:%d %s.%s" % (name, node.lineno, aliases[node.value.id], node.attr))
        self.assertEqual(found, [])

    def test_no_import_cycle(self):
        graph = {
            name: {
                target for _line, target, _what in self.lib.imports(name) if target.startswith("lib") and target != name
            }
            for name in self.lib.modules
        }
        # a package's __init__ runs before its modules: importing lib.a.b imports lib.a
        for name in graph:
            for target in list(graph[name]):
                parts = target.split(".")
                for end in range(2, len(parts)):
                    parent = ".".join(parts[:end])
                    if parent in graph and parent != name and not name.startswith(parent + "."):
                        graph[name].add(parent)
        cycles, state = [], {}

        def visit(node, path):
            state[node] = "open"
            for target in sorted(graph[node]):
                if state.get(target) == "open":
                    cycles.append(" -> ".join(path[path.index(target) :] + [target]))
                elif target not in state:
                    visit(target, path + [target])
            state[node] = "done"

        for name in sorted(graph):
            if name not in state:
                visit(name, [name])
        self.assertEqual(cycles, [])

    def test_rooms_import_only_what_the_architecture_allows(self):
        rooms = {_room(name) for name in self.lib.modules} - {None}
        self.assertEqual(rooms - set(ALLOWED), set(), "a room docs/architecture.md does not know")
        found = []
        for name in self.lib.modules:
            room = _room(name)
            for line, target, _what in self.lib.imports(name, module_level_only=False):
                other = _room(target) if target.startswith("lib.") else None
                if other and room and other != room and other not in ALLOWED[room]:
                    found.append("%s:%d imports %s" % (name, line, target))
        self.assertEqual(found, [])

    def test_nothing_outside_sandbox_uses_it(self):
        found = [
            "%s:%d imports %s" % (name, line, target)
            for name in self.lib.modules
            if _room(name) != "sandbox"
            for line, target, _what in self.lib.imports(name, module_level_only=False)
            if _room(target) == "sandbox"
        ]
        self.assertEqual(found, [])
