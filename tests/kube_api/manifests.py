"""Small manifests for the stand-in's tests: an InferencePool v1 CRD (the fields gie
reads, with printer columns and the project's two CEL rules), an InferenceObjective
CRD, and objects of both.

The project's full CRDs live in helm/gie/crds/; these stay small so each test shows
the schema rule it exercises.
"""

from __future__ import annotations

from typing import Any

import yaml

POOL_GROUP = "inference.networking.k8s.io"
OBJECTIVE_GROUP = "llm-d.ai"

POOL_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: inferencepools.inference.networking.k8s.io
spec:
  group: inference.networking.k8s.io
  names: {kind: InferencePool, listKind: InferencePoolList, plural: inferencepools,
          singular: inferencepool, shortNames: [infpool]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Port, type: integer, jsonPath: '.spec.targetPorts[0].number'}
    - {name: Protocol, type: string, jsonPath: .spec.appProtocol, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        required: [spec]
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [selector, targetPorts]
            properties:
              appProtocol: {type: string, default: http, enum: [http, kubernetes.io/h2c]}
              selector:
                type: object
                required: [matchLabels]
                properties:
                  matchLabels:
                    type: object
                    minProperties: 1
                    maxProperties: 64
                    additionalProperties: {type: string, maxLength: 63}
              targetPorts:
                type: array
                minItems: 1
                maxItems: 8
                x-kubernetes-list-type: atomic
                x-kubernetes-validations:
                - rule: self.all(p1, self.exists_one(p2, p1.number==p2.number))
                  message: port number must be unique
                items:
                  type: object
                  required: [number]
                  properties:
                    number: {type: integer, format: int32, minimum: 1, maximum: 65535}
              endpointPickerRef:
                type: object
                required: [name]
                x-kubernetes-validations:
                - rule: self.kind != 'Service' || has(self.port)
                  message: port is required when kind is Service (the default)
                properties:
                  group: {type: string, default: ""}
                  kind: {type: string, default: Service}
                  name: {type: string, minLength: 1, maxLength: 253}
                  port:
                    type: object
                    required: [number]
                    properties:
                      number: {type: integer, minimum: 1, maximum: 65535}
                  failureMode: {type: string, default: FailClose, enum: [FailOpen, FailClose]}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"""

OBJECTIVE_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: inferenceobjectives.llm-d.ai
spec:
  group: llm-d.ai
  names: {kind: InferenceObjective, listKind: InferenceObjectiveList,
          plural: inferenceobjectives, singular: inferenceobjective}
  scope: Namespaced
  versions:
  - name: v1alpha2
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [poolRef]
            properties:
              priority: {type: integer, format: int32}
              poolRef:
                type: object
                required: [name]
                properties:
                  group: {type: string, default: inference.networking.k8s.io}
                  kind: {type: string, default: InferencePool}
                  name: {type: string, minLength: 1}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def pool(name: str, *, port: int = 8000, app: str = "vllm") -> dict[str, Any]:
    return {
        "apiVersion": f"{POOL_GROUP}/v1",
        "kind": "InferencePool",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": app}},
            "targetPorts": [{"number": port}],
            "endpointPickerRef": {"name": f"{name}-epp", "port": {"number": 9002}},
        },
    }


def pod(
    name: str, *, labels: dict[str, str] | None = None, node: str | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "server", "image": "vllm/vllm-openai:v0.11.0"}]}
    if node is not None:
        spec["nodeName"] = node
        spec["terminationGracePeriodSeconds"] = 2
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": "vllm"}},
        "spec": spec,
    }


def objective(name: str, *, priority: int, pool_name: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{OBJECTIVE_GROUP}/v1alpha2",
        "kind": "InferenceObjective",
        "metadata": {"name": name},
        "spec": {"priority": priority, "poolRef": {"name": pool_name}},
    }


def as_yaml(*objects: dict[str, Any]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)
