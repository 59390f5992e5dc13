#!/usr/bin/env python3
"""Regenerate schemas/crds/*.json (JSON Schema draft 2020-12) from upstream CRD YAML.

Usage
-----
    pip install pyyaml
    python3 scripts/import_crds.py [--out schemas/crds] CRD.yaml [CRD.yaml ...]

Every YAML document in the given files is read; each CustomResourceDefinition
whose (group, version, kind) is listed in KINDS below is converted into
``<out>/<group>_<version>_<kind-lowercase>.json``.  Kinds found in no input
file are left untouched (so you can refresh one operator at a time), and
``<out>/index.json`` is rewritten from every KINDS entry whose file exists.
Use ``--check`` to fail if any KINDS entry was not found in the inputs.

The inputs are upstream files at pinned release tags; they are NOT vendored in
this repository.  To refresh, check each project out at the tag named in
KINDS (update the tag there when bumping) and pass the CRD files, e.g.::

    git -C cloudnative-pg show v1.29.2:config/crd/bases/postgresql.cnpg.io_clusters.yaml > /tmp/crds/cnpg_clusters.yaml
    ...
    python3 scripts/import_crds.py /tmp/crds/*.yaml

Upstream sources (project, release tag, CRD file path):

    postgresql.cnpg.io/v1 Cluster, ScheduledBackup
        cloudnative-pg/cloudnative-pg  v1.29.2  config/crd/bases/postgresql.cnpg.io_clusters.yaml,
                                                config/crd/bases/postgresql.cnpg.io_scheduledbackups.yaml
    autoscaling.k8s.io/v1 VerticalPodAutoscaler
        kubernetes/autoscaler  vertical-pod-autoscaler-1.7.1  vertical-pod-autoscaler/deploy/vpa-v1-crd-gen.yaml
    velero.io/v1 Schedule, BackupStorageLocation
        vmware-tanzu/velero  v1.18.1  config/crd/v1/bases/velero.io_schedules.yaml,
                                      config/crd/v1/bases/velero.io_backupstoragelocations.yaml
    redis.redis.opstreelabs.in/v1beta2 Redis, RedisCluster
        OT-CONTAINER-KIT/redis-operator  v0.26.0  config/crd/bases/redis.redis.opstreelabs.in_redis.yaml,
                                                  config/crd/bases/redis.redis.opstreelabs.in_redisclusters.yaml
    networking.istio.io/v1 Gateway, VirtualService
        istio/istio  1.30.3  manifests/charts/base/files/crd-all.gen.yaml
    monitoring.coreos.com/v1 Prometheus, Alertmanager, ServiceMonitor, PodMonitor, PrometheusRule
    monitoring.coreos.com/v1alpha1 AlertmanagerConfig
        prometheus-operator/prometheus-operator  v0.93.0  example/prometheus-operator-crd/monitoring.coreos.com_<plural>.yaml
    argoproj.io/v1alpha1 Application, AppProject
        argoproj/argo-cd  v3.5.1  manifests/crds/application-crd.yaml, manifests/crds/appproject-crd.yaml
    argoproj.io/v1alpha1 Rollout, AnalysisTemplate
        argoproj/argo-rollouts  v1.9.1  manifests/crds/rollout-crd.yaml, manifests/crds/analysis-template-crd.yaml
    cert-manager.io/v1 ClusterIssuer, Certificate
        cert-manager/cert-manager  v1.21.1  deploy/crds/cert-manager.io_clusterissuers.yaml,
                                            deploy/crds/cert-manager.io_certificates.yaml
    external-secrets.io/v1 ExternalSecret, ClusterSecretStore, SecretStore
        external-secrets/external-secrets  v2.9.0  config/crds/bases/external-secrets.io_<plural>.yaml
        (the files also hold the deprecated, unserved v1beta1; only v1 is imported)
    external-secrets.io/v1alpha1 PushSecret
        external-secrets/external-secrets  v2.9.0  config/crds/bases/external-secrets.io_pushsecrets.yaml
        (its only version; the primary pushes CNPG's replication Secrets for its replicas)
    opentelemetry.io/v1beta1 OpenTelemetryCollector
    opentelemetry.io/v1alpha1 Instrumentation
        open-telemetry/opentelemetry-operator  v0.158.0  config/crd/bases/opentelemetry.io_opentelemetrycollectors.yaml,
                                                         config/crd/bases/opentelemetry.io_instrumentations.yaml
        (the collector file also holds the deprecated v1alpha1; only v1beta1 is imported)

The kinds added in 2026-12 (Alertmanager, BackupStorageLocation and the
cert-manager, External Secrets, Argo Rollouts and OpenTelemetry kinds) are at
the newest stable release tag of their repository at that time (prometheus-
operator and Velero at the tags the other kinds already used).  No output
exceeds 600 KB, so nothing is pruned (largest:
monitoring.coreos.com_v1alpha1_alertmanagerconfig.json, ~255 KB).

Transformation of the version's openAPIV3Schema
------------------------------------------------
* The output validates the whole object: apiVersion (const) and kind (const)
  are required, metadata is any object (validated elsewhere), status is any
  object and optional; other root properties (spec, and e.g. Argo CD
  Application's ``operation``) are converted as below; root ``required`` of the
  CRD is kept; unknown root fields are rejected.
* Every structural object schema (root, property values, items,
  additionalProperties) that declares ``properties``, has no
  ``x-kubernetes-preserve-unknown-fields: true`` and no ``additionalProperties``
  of its own gets ``additionalProperties: false``.  Schemas inside
  allOf/anyOf/oneOf/not are value validations in Kubernetes, so they never get it.
* ``x-kubernetes-int-or-string: true`` -> no ``type``; ``anyOf`` integer|string.
* ``nullable: true`` -> ``type: [T, "null"]`` (and null added to an enum).
* Go/RE2 mid-pattern inline flags ``(?i)rest`` in ``pattern`` become ``(?i:rest)``
  (Python and Rust regex engines reject or differ on unscoped mid-pattern flags).
* ``description``, ``example`` and all other ``x-kubernetes-*`` keys (incl.
  ``x-kubernetes-validations``, CEL) are dropped.
* Subtrees listed in a kind's ``prune`` list (dotted paths from the root; ``[]``
  steps into ``items``, ``{}`` into ``additionalProperties``) are replaced by
  ``{"not": {}, "$comment": "pruned: portalgen never renders this field"}``; they
  are listed in the output's ``$comment``.  Used only where the output would
  exceed ~600 KB.
"""

import argparse
import json
import os
import sys

import yaml

PC = "prometheus-operator/prometheus-operator v0.93.0 example/prometheus-operator-crd/"
CM = "cert-manager/cert-manager v1.21.1 deploy/crds/"
ESO = "external-secrets/external-secrets v2.9.0 config/crds/bases/"
OTEL = "open-telemetry/opentelemetry-operator v0.158.0 config/crd/bases/"

# (group, version, kind) -> {"source": "<project> <tag> <path>", "prune": [paths]}
KINDS = {
    ("postgresql.cnpg.io", "v1", "Cluster"): {
        "source": "cloudnative-pg/cloudnative-pg v1.29.2 config/crd/bases/postgresql.cnpg.io_clusters.yaml",
    },
    ("postgresql.cnpg.io", "v1", "ScheduledBackup"): {
        "source": "cloudnative-pg/cloudnative-pg v1.29.2 config/crd/bases/postgresql.cnpg.io_scheduledbackups.yaml",
    },
    ("autoscaling.k8s.io", "v1", "VerticalPodAutoscaler"): {
        "source": "kubernetes/autoscaler vertical-pod-autoscaler-1.7.1 vertical-pod-autoscaler/deploy/vpa-v1-crd-gen.yaml",
    },
    ("velero.io", "v1", "Schedule"): {
        "source": "vmware-tanzu/velero v1.18.1 config/crd/v1/bases/velero.io_schedules.yaml",
    },
    ("redis.redis.opstreelabs.in", "v1beta2", "Redis"): {
        "source": "OT-CONTAINER-KIT/redis-operator v0.26.0 config/crd/bases/redis.redis.opstreelabs.in_redis.yaml",
    },
    ("redis.redis.opstreelabs.in", "v1beta2", "RedisCluster"): {
        "source": "OT-CONTAINER-KIT/redis-operator v0.26.0 config/crd/bases/redis.redis.opstreelabs.in_redisclusters.yaml",
    },
    ("networking.istio.io", "v1", "Gateway"): {
        "source": "istio/istio 1.30.3 manifests/charts/base/files/crd-all.gen.yaml",
    },
    ("networking.istio.io", "v1", "VirtualService"): {
        "source": "istio/istio 1.30.3 manifests/charts/base/files/crd-all.gen.yaml",
    },
    ("monitoring.coreos.com", "v1", "Prometheus"): {
        "source": PC + "monitoring.coreos.com_prometheuses.yaml",
        # Add dotted paths here (e.g. "spec.containers", "spec.affinity") if the
        # output ever exceeds ~600 KB; at v0.93.0 it is ~216 KB, so nothing is pruned.
        "prune": [],
    },
    ("monitoring.coreos.com", "v1", "ServiceMonitor"): {
        "source": PC + "monitoring.coreos.com_servicemonitors.yaml",
    },
    ("monitoring.coreos.com", "v1", "PodMonitor"): {
        "source": PC + "monitoring.coreos.com_podmonitors.yaml",
    },
    ("monitoring.coreos.com", "v1", "PrometheusRule"): {
        "source": PC + "monitoring.coreos.com_prometheusrules.yaml",
    },
    ("monitoring.coreos.com", "v1alpha1", "AlertmanagerConfig"): {
        "source": PC + "monitoring.coreos.com_alertmanagerconfigs.yaml",
    },
    ("monitoring.coreos.com", "v1", "Alertmanager"): {
        "source": PC + "monitoring.coreos.com_alertmanagers.yaml",
    },
    ("argoproj.io", "v1alpha1", "Application"): {
        "source": "argoproj/argo-cd v3.5.1 manifests/crds/application-crd.yaml",
    },
    ("argoproj.io", "v1alpha1", "AppProject"): {
        "source": "argoproj/argo-cd v3.5.1 manifests/crds/appproject-crd.yaml",
    },
    ("cert-manager.io", "v1", "ClusterIssuer"): {
        "source": CM + "cert-manager.io_clusterissuers.yaml",
    },
    ("cert-manager.io", "v1", "Certificate"): {
        "source": CM + "cert-manager.io_certificates.yaml",
    },
    ("external-secrets.io", "v1", "ExternalSecret"): {
        "source": ESO + "external-secrets.io_externalsecrets.yaml",
    },
    ("external-secrets.io", "v1", "ClusterSecretStore"): {
        "source": ESO + "external-secrets.io_clustersecretstores.yaml",
    },
    ("external-secrets.io", "v1", "SecretStore"): {
        "source": ESO + "external-secrets.io_secretstores.yaml",
    },
    ("external-secrets.io", "v1alpha1", "PushSecret"): {
        "source": ESO + "external-secrets.io_pushsecrets.yaml",
    },
    ("velero.io", "v1", "BackupStorageLocation"): {
        "source": "vmware-tanzu/velero v1.18.1 config/crd/v1/bases/velero.io_backupstoragelocations.yaml",
    },
    ("argoproj.io", "v1alpha1", "Rollout"): {
        "source": "argoproj/argo-rollouts v1.9.1 manifests/crds/rollout-crd.yaml",
    },
    ("argoproj.io", "v1alpha1", "AnalysisTemplate"): {
        "source": "argoproj/argo-rollouts v1.9.1 manifests/crds/analysis-template-crd.yaml",
    },
    ("opentelemetry.io", "v1beta1", "OpenTelemetryCollector"): {
        "source": OTEL + "opentelemetry.io_opentelemetrycollectors.yaml",
    },
    ("opentelemetry.io", "v1alpha1", "Instrumentation"): {
        "source": OTEL + "opentelemetry.io_instrumentations.yaml",
    },
}

PRUNED = {"not": {}, "$comment": "pruned: portalgen never renders this field"}
DROP_KEYS = {"description", "example", "nullable"}
STRUCTURAL_CHILD = ("items", "additionalProperties")
LOGICAL = ("allOf", "anyOf", "oneOf")


class Loader(yaml.SafeLoader):
    """SafeLoader that reads the YAML 1.1 "value" key ``=`` as the plain string "="
    (prometheus-operator CRDs have ``enum: [=, ...]``)."""


Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def file_name(group, version, kind):
    return "%s_%s_%s.json" % (group, version, kind.lower())


def scope_inline_flags(pattern):
    """Rewrite Go/RE2 mid-pattern flags ``(?i)rest`` as a scoped group ``(?i:rest)``.

    RE2 applies ``(?i)`` to the rest of the enclosing group; Python ``re`` rejects
    global flags that are not at the very start.  ``(?flags:...)`` means the same
    in RE2, Python and the Rust regex crates.
    """
    i = pattern.find("(?i)")
    if i <= 0:
        return pattern
    # find the end of the group enclosing position i (or end of pattern)
    depth, j, in_class = 0, i + 4, False
    while j < len(pattern):
        c = pattern[j]
        if c == "\\":
            j += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                break
            depth -= 1
        j += 1
    inner = scope_inline_flags(pattern[i + 4:j])
    return pattern[:i] + "(?i:" + inner + ")" + scope_inline_flags(pattern[j:])


def convert(schema, structural=True):
    """Return a JSON Schema 2020-12 copy of a Kubernetes structural schema node."""
    if not isinstance(schema, dict):
        return schema  # e.g. additionalProperties: true/false
    out = {}
    for key, val in schema.items():
        if key in DROP_KEYS or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {name: convert(sub, True) for name, sub in val.items()}
        elif key in STRUCTURAL_CHILD:
            out[key] = convert(val, True)
        elif key in LOGICAL:
            out[key] = [convert(sub, False) for sub in val]
        elif key == "not":
            out[key] = convert(val, False)
        elif key == "pattern":
            out[key] = scope_inline_flags(val)
        else:
            out[key] = val
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        if "anyOf" not in out:
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = list(out["enum"]) + [None]
    if (
        structural
        and "properties" in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
        and "additionalProperties" not in schema
    ):
        out["additionalProperties"] = False
    return out


def prune(schema, path):
    """Replace the subtree at dotted `path` (relative to the root) in place."""
    node = schema
    steps = path.replace("[]", ".[]").replace("{}", ".{}").split(".")
    steps = [s for s in steps if s]
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if step == "[]":
            container, key = node, "items"
        elif step == "{}":
            container, key = node, "additionalProperties"
        else:
            container, key = node.get("properties", {}), step
        if key not in container or not isinstance(container[key], dict):
            raise SystemExit("prune path %r: %r not found" % (path, step))
        if last:
            container[key] = dict(PRUNED)
        node = container[key]


def build(crd, version, meta):
    group = crd["spec"]["group"]
    kind = crd["spec"]["names"]["kind"]
    ver = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    root = ver["schema"]["openAPIV3Schema"]
    for path in meta.get("prune", []):
        prune(root, path)
    comment = "Generated by scripts/import_crds.py from %s (CRD %s, version %s)" % (
        meta["source"], crd["metadata"]["name"], version)
    if ver.get("deprecated"):
        comment += "; upstream marks this version deprecated"
    if meta.get("prune"):
        comment += "; pruned (rejected if present): " + ", ".join(meta["prune"])
    comment += "; descriptions and x-kubernetes-validations (CEL) dropped; status not validated."
    props = {
        "apiVersion": {"const": "%s/%s" % (group, version)},
        "kind": {"const": kind},
        "metadata": {"type": "object"},
    }
    for name, sub in root.get("properties", {}).items():
        if name in props:
            continue
        props[name] = {"type": "object"} if name == "status" else convert(sub)
    required = ["apiVersion", "kind"] + [r for r in root.get("required", []) if r not in ("apiVersion", "kind")]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": comment,
        "title": "%s/%s %s" % (group, version, kind),
        "type": "object",
        "required": required,
        "properties": props,
        "additionalProperties": False,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "schemas", "crds"))
    ap.add_argument("--check", action="store_true", help="fail unless every KINDS entry was found")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    found = set()
    for path in args.files:
        with open(path) as fh:
            for doc in yaml.load_all(fh, Loader=Loader):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                group = doc["spec"]["group"]
                kind = doc["spec"]["names"]["kind"]
                for v in doc["spec"]["versions"]:
                    key = (group, v["name"], kind)
                    if key not in KINDS:
                        continue
                    schema = build(doc, v["name"], KINDS[key])
                    name = file_name(*key)
                    with open(os.path.join(args.out, name), "w") as out:
                        json.dump(schema, out, indent=1, sort_keys=False)
                        out.write("\n")
                    found.add(key)
                    print("wrote %s (%d bytes)" % (name, os.path.getsize(os.path.join(args.out, name))))

    missing = sorted(set(KINDS) - found)
    for key in missing:
        print("not in inputs (left as is): %s/%s %s" % key, file=sys.stderr)

    index = {}
    for (group, version, kind) in KINDS:
        name = file_name(group, version, kind)
        if os.path.exists(os.path.join(args.out, name)):
            index["%s/%s/%s" % (group, version, kind)] = name
    with open(os.path.join(args.out, "index.json"), "w") as out:
        json.dump(index, out, indent=1, sort_keys=True)
        out.write("\n")
    if args.check and missing:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
