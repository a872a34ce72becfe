"""No test module changes JAX's process-wide configuration when it is imported: pytest-xdist imports every test
module in every worker before it runs a test, so such a setting holds for every test the worker runs — a module
that switched XLA's optimisations off at import made the Rietveld and Pawley fits 1.5× slower in the whole suite
(``tests/conftest.py`` sets them per test instead)."""

import ast
import pathlib

TESTS = pathlib.Path(__file__).resolve().parent
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def config_updates_at_import(source: str) -> list[int]:
    """Line numbers of ``jax.config.update(...)`` calls a module runs when imported (outside any function or class)."""
    lines = []

    def visit(node):
        if isinstance(node, _SCOPES):
            return
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("jax.config.update", "config.update"):
            lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return lines


def test_the_check_finds_a_setting_made_at_import_and_not_one_made_in_a_test():
    src = ("import jax\nif True:\n    jax.config.update('jax_enable_x64', True)\n"
           "def test_x():\n    jax.config.update('jax_enable_x64', True)\n")
    assert config_updates_at_import(src) == [3]


def test_no_test_module_sets_jax_configuration_at_import():
    found = [f"{p.relative_to(TESTS)}:{n}" for p in sorted(TESTS.rglob("*.py"))
             for n in config_updates_at_import(p.read_text())]
    assert not found, found
