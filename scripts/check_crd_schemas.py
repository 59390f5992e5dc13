#!/usr/bin/env python3
"""Sanity-check schemas/crds/*.json produced by scripts/import_crds.py.

Usage:  pip install jsonschema && python3 scripts/check_crd_schemas.py [schemas/crds]

For every entry of index.json: the schema must be a valid Draft 2020-12 schema,
the minimal realistic SAMPLES instance of that kind must validate, and copies
of it with an unknown field injected at spec.bogus (and at a nested path, see
NESTED) must be rejected.  Exits non-zero on any failure.
"""

import copy
import json
import os
import sys

from jsonschema import Draft202012Validator

META = {"name": "x", "namespace": "ns", "labels": {"app.kubernetes.io/name": "x"}}


def obj(api_version, kind, spec):
    return {"apiVersion": api_version, "kind": kind, "metadata": dict(META), "spec": spec}


SAMPLES = {
    "postgresql.cnpg.io/v1/Cluster": obj("postgresql.cnpg.io/v1", "Cluster", {
        "instances": 3,
        "imageName": "ghcr.io/cloudnative-pg/postgresql:17.5",
        "postgresql": {"parameters": {"max_connections": "200", "shared_buffers": "256MB"}},
        "bootstrap": {"initdb": {"database": "app", "owner": "app", "secret": {"name": "app-credentials"}}},
        "storage": {"size": "20Gi", "storageClass": "fast"},
        "walStorage": {"size": "5Gi"},
        "monitoring": {"enablePodMonitor": True},
        "backup": {
            "retentionPolicy": "30d",
            "barmanObjectStore": {
                "destinationPath": "s3://backups/pg",
                "endpointURL": "https://s3.example.com",
                "s3Credentials": {
                    "accessKeyId": {"name": "s3-creds", "key": "ACCESS_KEY_ID"},
                    "secretAccessKey": {"name": "s3-creds", "key": "ACCESS_SECRET_KEY"},
                },
                "wal": {"compression": "gzip"},
            },
        },
        "externalClusters": [{
            "name": "origin",
            "connectionParameters": {"host": "origin-rw", "user": "streaming_replica", "dbname": "postgres"},
            "sslKey": {"name": "origin-replication", "key": "tls.key"},
        }],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
    }),
    "autoscaling.k8s.io/v1/VerticalPodAutoscaler": obj("autoscaling.k8s.io/v1", "VerticalPodAutoscaler", {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "updatePolicy": {"updateMode": "InPlaceOrRecreate", "minReplicas": 2},
        "resourcePolicy": {"containerPolicies": [{
            "containerName": "*", "minAllowed": {"cpu": "50m", "memory": "64Mi"},
            "maxAllowed": {"cpu": 2, "memory": "2Gi"}, "controlledResources": ["cpu", "memory"],
            "controlledValues": "RequestsAndLimits",
        }]},
    }),
    "velero.io/v1/Schedule": obj("velero.io/v1", "Schedule", {
        "schedule": "0 3 * * *",
        "useOwnerReferencesInBackup": False,
        "template": {"ttl": "720h0m0s", "includedNamespaces": ["app"], "snapshotVolumes": True,
                     "storageLocation": "default", "labelSelector": {"matchLabels": {"backup": "yes"}}},
    }),
    "redis.redis.opstreelabs.in/v1beta2/RedisCluster": obj("redis.redis.opstreelabs.in/v1beta2", "RedisCluster", {
        "clusterSize": 3,
        "clusterVersion": "v7",
        "persistenceEnabled": True,
        "kubernetesConfig": {"image": "quay.io/opstree/redis:v7.0.15", "imagePullPolicy": "IfNotPresent",
                             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
        "redisExporter": {"enabled": True, "image": "quay.io/opstree/redis-exporter:v1.44.0"},
        "redisLeader": {"replicas": 3},
        "redisFollower": {"replicas": 3},
        "storage": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                                     "resources": {"requests": {"storage": "1Gi"}}}}},
    }),
    "redis.redis.opstreelabs.in/v1beta2/Redis": obj("redis.redis.opstreelabs.in/v1beta2", "Redis", {
        "kubernetesConfig": {"image": "quay.io/opstree/redis:v7.0.15", "imagePullPolicy": "IfNotPresent"},
        "redisExporter": {"enabled": True, "image": "quay.io/opstree/redis-exporter:v1.44.0"},
        "storage": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                                     "resources": {"requests": {"storage": "1Gi"}}}}},
    }),
    "networking.istio.io/v1/Gateway": obj("networking.istio.io/v1", "Gateway", {
        "selector": {"istio": "ingressgateway"},
        "servers": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["app.example.com"],
                     "tls": {"mode": "SIMPLE", "credentialName": "app-tls"}}],
    }),
    "networking.istio.io/v1/VirtualService": obj("networking.istio.io/v1", "VirtualService", {
        "hosts": ["app.example.com"],
        "gateways": ["istio-system/public"],
        "http": [{
            "match": [{"uri": {"prefix": "/api"}, "headers": {"x-canary": {"exact": "true"}}}],
            "route": [{"destination": {"host": "api", "port": {"number": 8080}}, "weight": 100}],
            "timeout": "10s",
            "retries": {"attempts": 3, "perTryTimeout": "2s"},
        }],
    }),
    "monitoring.coreos.com/v1/Prometheus": obj("monitoring.coreos.com/v1", "Prometheus", {
        "replicas": 2, "retention": "15d", "serviceAccountName": "prometheus",
        "serviceMonitorSelector": {"matchLabels": {"team": "platform"}},
        "ruleSelector": {}, "resources": {"requests": {"memory": "2Gi"}},
        "storage": {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "50Gi"}}}}},
        "alerting": {"alertmanagers": [{"name": "alertmanager", "namespace": "monitoring", "port": "web"}]},
        "remoteWrite": [{"url": "https://mimir.example.com/api/v1/push"}],
    }),
    "monitoring.coreos.com/v1/ServiceMonitor": obj("monitoring.coreos.com/v1", "ServiceMonitor", {
        "selector": {"matchLabels": {"app": "web"}},
        "namespaceSelector": {"matchNames": ["app"]},
        "endpoints": [{"port": "metrics", "interval": "30s", "path": "/metrics", "targetPort": 9090}],
    }),
    "monitoring.coreos.com/v1/PodMonitor": obj("monitoring.coreos.com/v1", "PodMonitor", {
        "selector": {"matchLabels": {"app": "web"}},
        "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
    }),
    "monitoring.coreos.com/v1/PrometheusRule": obj("monitoring.coreos.com/v1", "PrometheusRule", {
        "groups": [{"name": "app", "partial_response_strategy": "Warn", "rules": [{
            "alert": "HighErrorRate", "expr": "rate(errors_total[5m]) > 1", "for": "10m",
            "labels": {"severity": "page"}, "annotations": {"summary": "errors"},
        }]}],
    }),
    "monitoring.coreos.com/v1alpha1/AlertmanagerConfig": obj("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig", {
        "route": {"receiver": "pd", "groupBy": ["alertname"], "groupWait": "30s",
                  "matchers": [{"name": "severity", "value": "page", "matchType": "="}],
                  "routes": [{"receiver": "slack", "matchers": [{"name": "severity", "value": "warn"}]}]},
        "receivers": [
            {"name": "pd", "pagerdutyConfigs": [{"routingKey": {"name": "pd", "key": "routing-key"}}]},
            {"name": "slack", "slackConfigs": [{"apiURL": {"name": "slack", "key": "url"}, "channel": "#alerts",
                                                "sendResolved": True}]},
        ],
        "inhibitRules": [{"sourceMatch": [{"name": "severity", "value": "page"}],
                          "targetMatch": [{"name": "severity", "value": "warn", "matchType": "="}],
                          "equal": ["alertname"]}],
        "muteTimeIntervals": [{"name": "weekends", "timeIntervals": [{"weekdays": ["Saturday:sunday"],
                                                                       "months": ["January:march"]}]}],
    }),
    "argoproj.io/v1alpha1/Application": obj("argoproj.io/v1alpha1", "Application", {
        "project": "default",
        "source": {"repoURL": "https://git.example.com/gitops.git", "targetRevision": "main", "path": "apps/web"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                       "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                       "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}},
        "revisionHistoryLimit": 10,
    }),
    "argoproj.io/v1alpha1/AppProject": obj("argoproj.io/v1alpha1", "AppProject", {
        "description": "platform",
        "sourceRepos": ["https://git.example.com/*"],
        "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "*"}],
        "clusterResourceWhitelist": [{"group": "*", "kind": "Namespace"}],
        "namespaceResourceWhitelist": [{"group": "*", "kind": "*"}],
    }),
}

# kind -> dotted path (inside the sample) of an existing object to inject "bogus" into
NESTED = {
    "postgresql.cnpg.io/v1/Cluster": "spec.storage",
    "autoscaling.k8s.io/v1/VerticalPodAutoscaler": "spec.updatePolicy",
    "velero.io/v1/Schedule": "spec.template",
    "redis.redis.opstreelabs.in/v1beta2/RedisCluster": "spec.kubernetesConfig",
    "redis.redis.opstreelabs.in/v1beta2/Redis": "spec.kubernetesConfig",
    "networking.istio.io/v1/Gateway": "spec.servers.0.port",
    "networking.istio.io/v1/VirtualService": "spec.http.0.route.0.destination",
    "monitoring.coreos.com/v1/Prometheus": "spec.storage",
    "monitoring.coreos.com/v1/ServiceMonitor": "spec.endpoints.0",
    "monitoring.coreos.com/v1/PodMonitor": "spec.podMetricsEndpoints.0",
    "monitoring.coreos.com/v1/PrometheusRule": "spec.groups.0.rules.0",
    "monitoring.coreos.com/v1alpha1/AlertmanagerConfig": "spec.receivers.0.pagerdutyConfigs.0",
    "argoproj.io/v1alpha1/Application": "spec.syncPolicy.automated",
    "argoproj.io/v1alpha1/AppProject": "spec.destinations.0",
}


def at(doc, path):
    for step in path.split("."):
        doc = doc[int(step)] if isinstance(doc, list) else doc[step]
    return doc


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "schemas", "crds")
    with open(os.path.join(d, "index.json")) as fh:
        index = json.load(fh)
    failures = 0
    for key, name in sorted(index.items()):
        with open(os.path.join(d, name)) as fh:
            schema = json.load(fh)
        Draft202012Validator.check_schema(schema)
        v = Draft202012Validator(schema)
        sample = SAMPLES.get(key)
        if sample is None:
            print("NO SAMPLE  %s" % key)
            failures += 1
            continue
        errs = [e.message for e in v.iter_errors(sample)]
        bogus = copy.deepcopy(sample)
        bogus["spec"]["bogus"] = 1
        nested = copy.deepcopy(sample)
        at(nested, NESTED[key])["bogus"] = 1
        no_kind = copy.deepcopy(sample)
        no_kind["kind"] = "Other"
        rejects = [not v.is_valid(x) for x in (bogus, nested, no_kind)]
        ok = not errs and all(rejects)
        failures += not ok
        print("%s %-52s %s" % ("ok  " if ok else "FAIL", key,
                                "" if ok else "errors=%s rejects(spec.bogus, %s.bogus, kind)=%s"
                                % (errs[:3], NESTED[key], rejects)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
