"""What a generated stub of ``flow_control.proto`` declares, free of generator versions.

The generators stamp their own release into what they write (grpcio-tools writes
``GRPC_GENERATED_VERSION``, protoc the protobuf gencode version it validates at
import) and reshape their templates between releases. A committed stub is current
when it declares the same things as a fresh one, so stubs are compared by:

* ``*_pb2.py``: the file descriptor it registers (packages, messages, fields,
  enums, services and their methods), parsed from the serialized bytes;
* ``*_pb2_grpc.py``: the RPC method paths its client stub and server handler use;
* ``*.pyi``: every class and every name each class declares (fields, methods with
  their parameter names, nested classes), in order.

A file that cannot be parsed has no essence (None): it is never current.
"""

from __future__ import annotations

import ast

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError


def essence(name: str, text: str) -> object | None:
    """What ``text`` (the stub file called ``name``) declares; None when unreadable."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    if name.endswith(".pyi"):
        return _declarations(tree.body, prefix="") or None
    if name.endswith("_pb2_grpc.py"):
        return _method_paths(tree) or None
    if name.endswith("_pb2.py"):
        return _descriptor(tree)
    return text


def _descriptor(tree: ast.Module) -> descriptor_pb2.FileDescriptorProto | None:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            try:
                return descriptor_pb2.FileDescriptorProto.FromString(node.args[0].value)
            except DecodeError:
                return None
    return None


def _method_paths(tree: ast.Module) -> list[str]:
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("/")
        and node.value.count("/") == 2
    ]


def _declarations(body: list[ast.stmt], *, prefix: str) -> list[str]:
    names: list[str] = []
    for node in body:
        if isinstance(node, ast.ClassDef):
            names.append(f"class {prefix}{node.name}")
            names.extend(_declarations(node.body, prefix=f"{prefix}{node.name}."))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            parameters = [argument.arg for argument in node.args.args + node.args.kwonlyargs]
            names.append(f"def {prefix}{node.name}({', '.join(parameters)})")
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(f"field {prefix}{node.target.id}")
        elif isinstance(node, ast.Assign):
            targets = [target for target in node.targets if isinstance(target, ast.Name)]
            names.extend(f"name {prefix}{target.id}" for target in targets)
    return names
