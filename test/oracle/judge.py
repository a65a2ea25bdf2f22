"""The SDK oracle: Microsoft's azure-ai-ml (see requirements.txt for the pinned version) judges Azure ML ARM bodies.

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout, in order.

  {"op": "judge", "kind": "<kind>", "body": {...}, "envelope": {"id": ..., "name": ...}}
      (envelope: the ARM id and name a request body gets from its URL path; used for the conversion only)
      Builds the SDK's REST model of <kind> from the dict (arm_ml_service.models, API 2025-12-01) and reports:
        unknownKeys      JSON paths of keys the REST model does not define (at any depth, discriminators resolved)
        unknownValues    enum and discriminator values the REST model does not list
        typeErrors       values whose JSON type is not the declared one (str/int/bool/number/duration/date-time/map)
        missingRequired  required fields (non-Optional in the model, writable) absent from the body
        readOnlySent     read-only fields present in the body
        conversionError  the exception of <Entity>._from_rest_object / _to_rest_object, if any
        lost             [{path, sent, back}] leaves of the body that the entity round trip drops or changes
        shims            SDK quirks worked around for this body (a key the SDK reads unconditionally)
        roundTrip        the SDK's REST body after the round trip
        entity           the class of the SDK entity the body converts to (e.g. KubernetesOnlineEndpoint)
  {"op": "sdkCommandJob", "args": {...}}   the body the SDK itself builds for a command job (jobs.create_or_update path)
  {"op": "sdkModelVersion", "args": {...}} the body the SDK itself builds for a model version (models.create_or_update)
  {"op": "versions"}                       the installed SDK's version and REST API version
  {"op": "fields", "classes": [...]}      the wire names of the fields each REST model class defines

Kinds: codeVersion, environmentVersion, modelVersion, modelContainer, job, datastore, compute, onlineEndpoint,
onlineDeployment, endpointAuthKeys.
"""
from __future__ import annotations

import datetime
import enum
import json
import re
import sys
import traceback
import typing
from importlib.metadata import version as dist_version

from azure.ai.ml._restclient.arm_ml_service import models as rest
from azure.ai.ml._restclient.arm_ml_service.models import _models as rest_models_module
from azure.ai.ml._restclient.arm_ml_service._utils.model_base import Model as RestModel
from azure.ai.ml.entities import (
    BatchDeployment,
    BatchEndpoint,
    Compute,
    Datastore,
    Environment,
    Job,
    Model,
    OnlineDeployment,
    OnlineEndpoint,
)
from azure.ai.ml.entities._assets._artifacts.code import Code
from azure.ai.ml.entities._endpoint.online_endpoint import EndpointAuthKeys


# ---------------------------------------------------------------------------------------------------------------
# Schema walk over the REST model (unknown keys, enum values, JSON types, required and read-only fields)

_ANNOTATION_CACHE: dict[tuple[type, str], typing.Any] = {}


def _namespace() -> dict[str, typing.Any]:
    namespace = dict(vars(rest_models_module))
    namespace["_models"] = rest
    return namespace


def _resolve(tp: typing.Any) -> typing.Any:
    """The annotation with its forward references ("_models.JobOutput") replaced by the classes."""
    if isinstance(tp, str):
        return _resolve(eval(tp, _namespace()))  # the model module's own annotation text
    if isinstance(tp, typing.ForwardRef):
        return _resolve(eval(tp.__forward_arg__, _namespace()))
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is None or not args or origin is typing.Literal:
        return tp
    resolved = tuple(_resolve(a) for a in args)
    if origin is typing.Union:
        return typing.Union[resolved]  # type: ignore[return-value]
    if origin in (list, dict):
        return origin[resolved]  # type: ignore[index]
    return tp


def _annotation(cls: type, attr: str) -> typing.Any:
    key = (cls, attr)
    if key in _ANNOTATION_CACHE:
        return _ANNOTATION_CACHE[key]
    raw: typing.Any = None
    for klass in cls.__mro__:
        ann = getattr(klass, "__annotations__", {})
        if attr in ann:
            raw = ann[attr]
            break
    # A failure here is an error of the judge, not a pass: it would leave the field unjudged.
    resolved = _resolve(raw) if raw is not None else typing.Any
    _ANNOTATION_CACHE[key] = resolved
    return resolved


def _strip_optional(tp: typing.Any) -> tuple[typing.Any, bool]:
    if typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) != len(typing.get_args(tp))
        if len(args) == 1:
            return args[0], optional
        return typing.Union[tuple(args)], optional  # type: ignore[return-value]
    return tp, False


def _rest_fields(cls: type) -> dict[str, tuple[str, typing.Any]]:
    """rest name -> (attribute, _RestField) of a REST model class."""
    cls.__new__(cls)  # computes _attr_to_rest_field on first use
    return {rf._rest_name: (attr, rf) for attr, rf in cls._attr_to_rest_field.items()}  # pylint: disable=protected-access


def _is_read_only(rf: typing.Any) -> bool:
    vis = rf._visibility  # pylint: disable=protected-access
    return bool(vis) and "create" not in vis and "update" not in vis


def _resolve_subclass(cls: type, data: dict) -> tuple[type, str | None]:
    """Follows discriminators the way the SDK's deserializer does; names an unlisted discriminator value."""
    seen: list[str] = []
    current = cls
    while hasattr(current, "__mapping__"):
        disc = current._get_discriminator(seen)  # pylint: disable=protected-access
        if disc is None:
            break
        seen.append(disc._rest_name)  # pylint: disable=protected-access
        value = data.get(disc._rest_name)  # pylint: disable=protected-access
        mapped = current.__mapping__.get(value)  # type: ignore[attr-defined]
        if mapped is None:
            known = sorted(k for k in current.__mapping__ if isinstance(k, str))  # type: ignore[attr-defined]
            return current, f"{disc._rest_name}={value!r} (known: {', '.join(known)})"  # pylint: disable=protected-access
        if mapped is current:
            break
        current = mapped
    return current, None


class Findings:
    def __init__(self) -> None:
        self.unknown_keys: list[str] = []
        self.unknown_values: list[str] = []
        self.type_errors: list[str] = []
        self.missing_required: list[str] = []
        self.read_only_sent: list[str] = []


_DURATION = re.compile(r"^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _check_value(tp: typing.Any, value: typing.Any, path: str, f: Findings) -> None:
    tp, _ = _strip_optional(tp)
    if value is None:
        return
    origin = typing.get_origin(tp)
    if tp is typing.Any:
        return
    if origin is typing.Literal:
        allowed = [a.value if isinstance(a, enum.Enum) else a for a in typing.get_args(tp)]
        if value not in allowed:
            f.unknown_values.append(f"{path}={value!r} (known: {', '.join(map(str, allowed))})")
        return
    if origin is typing.Union:
        args = typing.get_args(tp)
        enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.Enum)]
        if str in args and enums:  # extensible enum: Union[str, SomeEnum]
            if not isinstance(value, str):
                f.type_errors.append(f"{path}: {json.dumps(value)} is not a string")
                return
            known = [m.value for e in enums for m in e]
            if value not in known:
                f.unknown_values.append(f"{path}={value!r} (known: {', '.join(known)})")
            return
        return  # other unions: not judged
    if origin in (list, typing.List):
        if not isinstance(value, list):
            f.type_errors.append(f"{path}: {json.dumps(value)[:60]} is not a list")
            return
        (item_tp,) = typing.get_args(tp) or (typing.Any,)
        for i, item in enumerate(value):
            _check_value(item_tp, item, f"{path}[{i}]", f)
        return
    if origin in (dict, typing.Dict):
        if not isinstance(value, dict):
            f.type_errors.append(f"{path}: {json.dumps(value)[:60]} is not an object")
            return
        args = typing.get_args(tp)
        item_tp = args[1] if len(args) == 2 else typing.Any
        for k, item in value.items():
            _check_value(item_tp, item, f"{path}.{k}", f)
        return
    if isinstance(tp, type) and issubclass(tp, RestModel):
        if not isinstance(value, dict):
            f.type_errors.append(f"{path}: {json.dumps(value)[:60]} is not an object ({tp.__name__})")
            return
        _walk(tp, value, path, f)
        return
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        known = [m.value for m in tp]
        if value not in known:
            f.unknown_values.append(f"{path}={value!r} (known: {', '.join(map(str, known))})")
        return
    checks: dict[typing.Any, tuple[typing.Callable[[typing.Any], bool], str]] = {
        str: (lambda v: isinstance(v, str), "a string"),
        bool: (lambda v: isinstance(v, bool), "a boolean"),
        int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
        float: (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
        datetime.timedelta: (lambda v: isinstance(v, str) and bool(_DURATION.match(v)), "an ISO-8601 duration"),
        datetime.datetime: (lambda v: isinstance(v, str) and bool(_DATETIME.match(v)), "an ISO-8601 date-time"),
    }
    if tp in checks:
        ok, what = checks[tp]
        if not ok(value):
            f.type_errors.append(f"{path}: {json.dumps(value)[:60]} is not {what}")


def _walk(cls: type, data: dict, path: str, f: Findings) -> None:
    cls, bad_discriminator = _resolve_subclass(cls, data)
    if bad_discriminator:
        f.unknown_values.append(f"{path}.{bad_discriminator}" if path else bad_discriminator)
    fields = _rest_fields(cls)
    for key, value in data.items():
        here = f"{path}.{key}" if path else key
        if key not in fields:
            f.unknown_keys.append(here)
            continue
        attr, rf = fields[key]
        if _is_read_only(rf):
            f.read_only_sent.append(here)
        _check_value(_annotation(cls, attr), value, here, f)
    for key, (attr, rf) in fields.items():
        if key in data or _is_read_only(rf) or rf._is_discriminator:  # pylint: disable=protected-access
            continue
        _, optional = _strip_optional(_annotation(cls, attr))
        if not optional:
            f.missing_required.append(f"{path}.{key}" if path else key)


# ---------------------------------------------------------------------------------------------------------------
# Entity round trip

def _code_from(r: typing.Any) -> typing.Any:
    return Code._from_rest_object(r)  # pylint: disable=protected-access


def _to_rest_plain(entity: typing.Any) -> typing.Any:
    return entity._to_rest_object()  # pylint: disable=protected-access


def _to_rest_at(method: str) -> typing.Callable[[typing.Any, dict], typing.Any]:
    """Endpoints and deployments: the entity's REST conversion `method`, given the body's location."""
    return lambda entity, body: getattr(entity, method)(body.get("location"))


def _job_to_rest(entity: typing.Any) -> typing.Any:
    from azure.ai.ml.entities._job.to_rest_functions import to_rest_job_object

    return to_rest_job_object(entity)


KINDS: dict[str, dict[str, typing.Any]] = {
    "codeVersion": {"rest": rest.CodeVersion, "from": _code_from, "to": _to_rest_plain},
    "environmentVersion": {"rest": rest.EnvironmentVersion, "from": Environment._from_rest_object, "to": _to_rest_plain},  # pylint: disable=protected-access
    "modelVersion": {"rest": rest.ModelVersion, "from": Model._from_rest_object, "to": _to_rest_plain},  # pylint: disable=protected-access
    "modelContainer": {"rest": rest.ModelContainer},
    "job": {"rest": rest.JobBase, "from": Job._from_rest_object, "to": _job_to_rest},  # pylint: disable=protected-access
    "datastore": {"rest": rest.Datastore, "from": Datastore._from_rest_object, "to": _to_rest_plain},  # pylint: disable=protected-access
    "compute": {"rest": rest.ComputeResource, "from": Compute._from_rest_object, "to": _to_rest_plain},  # pylint: disable=protected-access
    "onlineEndpoint": {"rest": rest.OnlineEndpoint, "from": OnlineEndpoint._from_rest_object, "to": _to_rest_at("_to_rest_online_endpoint")},  # pylint: disable=protected-access
    "onlineDeployment": {"rest": rest.OnlineDeployment, "from": OnlineDeployment._from_rest_object, "to": _to_rest_at("_to_rest_object")},  # pylint: disable=protected-access
    "batchEndpoint": {"rest": rest.BatchEndpoint, "from": BatchEndpoint._from_rest_object, "to": _to_rest_at("_to_rest_batch_endpoint")},  # pylint: disable=protected-access
    "batchDeployment": {"rest": rest.BatchDeployment, "from": BatchDeployment._from_rest_object, "to": _to_rest_at("_to_rest_object")},  # pylint: disable=protected-access
    "endpointAuthKeys": {"rest": rest.EndpointAuthKeys, "from": EndpointAuthKeys._from_rest_object, "to": _to_rest_plain},  # pylint: disable=protected-access
}

# Keys the SDK's _from_rest_object reads without a None check (it crashes on a body without them); Azure's own
# answers carry them. They are added, empty, only when absent, and the answer names each one it added.
SHIMS: dict[str, list[tuple[tuple[str, ...], typing.Any]]] = {
    # OnlineDeployment: KubernetesOnlineDeployment reads containerResourceRequirements before its None check.
    "onlineDeployment": [(("properties", "containerResourceRequirements"), {})],
    # Model: _from_rest_object iterates properties.flavors when the attribute exists (it always does on these models).
    "modelVersion": [(("properties", "flavors"), {})],
}

# Read-only envelope fields (ids, names, system data) are not expected back from _to_rest_object.
_ENVELOPE = {"id", "name", "type", "systemData"}


def _json_default(o: typing.Any) -> typing.Any:
    if isinstance(o, datetime.timedelta):
        return _iso_duration(o)
    if isinstance(o, datetime.datetime):
        return o.isoformat()
    if isinstance(o, enum.Enum):
        return o.value
    if hasattr(o, "as_dict"):
        return o.as_dict()
    return str(o)


def _iso_duration(td: datetime.timedelta) -> str:
    from azure.ai.ml._restclient.arm_ml_service._utils.model_base import _timedelta_as_isostr  # type: ignore

    return _timedelta_as_isostr(td)


def _plain(value: typing.Any) -> typing.Any:
    return json.loads(json.dumps(value, default=_json_default))


def _same(sent: typing.Any, back: typing.Any) -> bool:
    if sent == back:
        return True
    if isinstance(sent, str) and isinstance(back, str) and _DURATION.match(sent) and _DURATION.match(back):
        from azure.ai.ml._restclient.arm_ml_service._utils.model_base import _deserialize_duration  # type: ignore

        try:
            return _deserialize_duration(sent) == _deserialize_duration(back)
        except Exception:  # pylint: disable=broad-except
            return False
    return False


def _compare(sent: typing.Any, back: typing.Any, path: str, lost: list[dict[str, typing.Any]]) -> None:
    if isinstance(sent, dict) and isinstance(back, dict):
        for key, value in sent.items():
            if not path and key in _ENVELOPE:
                continue
            here = f"{path}.{key}" if path else key
            if key not in back or back[key] is None:
                if value not in (None, {}, []):
                    lost.append({"path": here, "sent": value, "back": None})
                continue
            _compare(value, back[key], here, lost)
        return
    if not _same(sent, back):
        lost.append({"path": path, "sent": sent, "back": back})


def _set_path(body: dict, keys: tuple[str, ...], value: typing.Any) -> bool:
    node = body
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            return False
        node = node[key]
    if keys[-1] in node:
        return False
    node[keys[-1]] = value
    return True


def judge(kind: str, body: dict, envelope: dict | None = None) -> dict[str, typing.Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    spec = KINDS[kind]
    f = Findings()
    _walk(spec["rest"], body, "", f)
    answer: dict[str, typing.Any] = {
        "kind": kind,
        "restModel": spec["rest"].__name__,
        "unknownKeys": f.unknown_keys,
        "unknownValues": f.unknown_values,
        "typeErrors": f.type_errors,
        "missingRequired": f.missing_required,
        "readOnlySent": f.read_only_sent,
        "conversionError": None,
        "lost": [],
        "shims": [],
        "roundTrip": None,
        "entity": None,
    }
    if "from" not in spec:
        return answer
    shimmed = json.loads(json.dumps(body))
    for key, value in (envelope or {}).items():
        shimmed.setdefault(key, value)
    for keys, value in SHIMS.get(kind, []):
        if _set_path(shimmed, keys, value):
            answer["shims"].append(".".join(keys))
    try:
        rest_obj = spec["rest"](shimmed)
        entity = spec["from"](rest_obj)
        answer["entity"] = type(entity).__name__
        to = spec["to"]
        back_obj = to(entity, shimmed) if to.__code__.co_argcount == 2 else to(entity)
        back = _plain(back_obj.as_dict() if hasattr(back_obj, "as_dict") else back_obj)
    except Exception as e:  # pylint: disable=broad-except
        tb = traceback.extract_tb(e.__traceback__)
        where = next((f"{fr.filename.split('site-packages/')[-1]}:{fr.lineno}" for fr in reversed(tb) if "azure/ai/ml" in fr.filename), "")
        answer["conversionError"] = f"{type(e).__name__}: {e} ({where})"
        return answer
    answer["roundTrip"] = back
    _compare(body, back, "", answer["lost"])
    return answer


# ---------------------------------------------------------------------------------------------------------------
# What the SDK itself sends for the same intent

def sdk_command_job(args: dict) -> dict[str, typing.Any]:
    from azure.ai.ml import Output, command
    from azure.ai.ml.entities._job.to_rest_functions import to_rest_job_object

    outputs = {name: Output(**spec) for name, spec in (args.get("outputs") or {}).items()}
    node = command(
        code=args["code"],
        command=args["command"],
        environment=args["environment"],
        compute=args["compute"],
        outputs=outputs,
        experiment_name=args.get("experimentName"),
        display_name=args.get("displayName"),
        environment_variables=args.get("environmentVariables"),
        tags=args.get("tags"),
    )
    return {"body": _plain(to_rest_job_object(node).as_dict())}


def sdk_model_version(args: dict) -> dict[str, typing.Any]:
    """Model(...) through the steps models.create_or_update takes for a remote path (no upload): the short
    datastore URL resolved against the workspace, the MLflow folder check, then _to_rest_object()."""
    from azure.ai.ml._scope_dependent_operations import OperationScope
    from azure.ai.ml._utils.utils import resolve_short_datastore_url, validate_ml_flow_folder
    from azure.ai.ml.entities import Model as ModelEntity

    model = ModelEntity(name=args["name"], version=args.get("version"), path=args["path"], type=args["type"], description=args.get("description"), tags=args.get("tags"))
    ws = args.get("workspace")
    if ws:
        scope = OperationScope(subscription_id=ws["subscription"], resource_group_name=ws["resourceGroup"], workspace_name=ws["workspace"])
        model.path = resolve_short_datastore_url(model.path, scope)
    validate_ml_flow_folder(model.path, model.type)
    return {"body": _plain(model._to_rest_object().as_dict())}  # pylint: disable=protected-access


def sdk_batch_invoke(args: dict) -> dict[str, typing.Any]:
    """The request body batch_endpoints.invoke(endpoint, deployment_name=..., inputs={name: Input}, outputs={name:
    Output}, job_name=...) POSTs to the endpoint's scoring URI (operations/_batch_endpoint_operations.py): the
    params_override list loaded through BatchJobSchema, wrapped in {"properties": ...}; azureml:// paths are not
    resolved (no upload), as invoke does for them. The headers it adds are returned too (without the token)."""
    from pathlib import Path

    from azure.ai.ml import Input, Output
    from azure.ai.ml._schema._deployment.batch.batch_job import BatchJobSchema
    from azure.ai.ml.constants._common import BASE_PATH_CONTEXT_KEY, PARAMS_OVERRIDE_KEY
    from azure.ai.ml.constants._endpoint import EndpointInvokeFields

    params_override: list[dict[str, typing.Any]] = []
    params_override.append({"input_data": {name: Input(**spec) for name, spec in args["inputs"].items()}})
    if args.get("outputs"):
        params_override.append({"output_data": {name: Output(**spec) for name, spec in args["outputs"].items()}})
    if args.get("jobName"):
        params_override.append({"job_name": args["jobName"]})
    job = BatchJobSchema(context={BASE_PATH_CONTEXT_KEY: Path("."), PARAMS_OVERRIDE_KEY: params_override}).load(data={})
    job.pop("_output_dataset", None)
    headers = dict(EndpointInvokeFields.DEFAULT_HEADER)
    if args.get("deploymentName"):
        headers[EndpointInvokeFields.MODEL_DEPLOYMENT] = args["deploymentName"]
    return {"body": _plain({"properties": job}), "headers": headers, "repeatabilityHeader": EndpointInvokeFields.REPEATABILITY_REQUEST_ID}


def versions() -> dict[str, typing.Any]:
    import inspect

    from azure.ai.ml._restclient.arm_ml_service import _configuration

    found = re.search(r'kwargs\.pop\("api_version", "([^"]+)"\)', inspect.getsource(_configuration))
    return {"azureAiMl": dist_version("azure-ai-ml"), "apiVersion": found.group(1) if found else None}


def main() -> None:
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "judge":
                out = judge(req["kind"], req["body"], req.get("envelope"))
            elif op == "sdkCommandJob":
                out = sdk_command_job(req["args"])
            elif op == "sdkModelVersion":
                out = sdk_model_version(req["args"])
            elif op == "sdkBatchInvoke":
                out = sdk_batch_invoke(req["args"])
            elif op == "versions":
                out = versions()
            elif op == "fields":
                out = {"fields": {c: sorted(_rest_fields(getattr(rest, c)).keys()) for c in req["classes"]}}
            else:
                raise ValueError(f"unknown op {op!r}")
            out = {"ok": True, **out}
        except Exception as e:  # pylint: disable=broad-except
            out = {"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-2000:]}
        sys.stdout.write(json.dumps(out, default=_json_default) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
