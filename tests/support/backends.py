"""Where the tests' engines come from.

`local` (default without Docker): the servers of STACK.md as child processes on free ports.
`containers` (default when a Docker engine answers, or TEST_BACKEND=containers): the real
Kafka, MongoDB, Elasticsearch and Redis images through testcontainers. Either way the mail sink
and the services run as local processes, configured with the engines' addresses.
"""
from __future__ import annotations

import os
from pathlib import Path

from deploy.local.stack import LocalStack, free_ports
from tests.support.identity import SESSION_KEYS


def docker_engine_reachable() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


def chosen_backend() -> str:
    wanted = os.environ.get("TEST_BACKEND", "auto")
    if wanted not in {"auto", "local", "containers"}:
        raise ValueError("TEST_BACKEND must be auto, local or containers")
    if wanted == "auto":
        return "containers" if docker_engine_reachable() else "local"
    return wanted


class ContainerStack(LocalStack):
    """The same stack, with the four engines in containers instead of local processes."""

    containers: list

    def start_engines(self, timeout_s: float = 180) -> None:
        from testcontainers.elasticsearch import ElasticSearchContainer
        from testcontainers.kafka import KafkaContainer
        from testcontainers.mongodb import MongoDbContainer
        from testcontainers.redis import RedisContainer
        from deploy.local import engines

        self.containers = []
        kafka = KafkaContainer("confluentinc/cp-kafka:7.6.1").with_kraft()
        mongo = MongoDbContainer("mongo:7.0", username=None, password=None).with_command(
            "--replSet rs0 --bind_ip_all")
        search = ElasticSearchContainer("docker.elastic.co/elasticsearch/elasticsearch:8.15.3",
                                        mem_limit="1G")
        redis = RedisContainer("redis:7.2")
        for container in (kafka, mongo, search, redis):
            container.start()
            self.containers.append(container)
        mongo.exec(["mongosh", "--quiet", "--eval",
                    "try { rs.status() } catch (e) { rs.initiate() }"])
        self.kafka_address = kafka.get_bootstrap_server()
        self.mongo_address = (f"mongodb://{mongo.get_container_host_ip()}:"
                              f"{mongo.get_exposed_port(27017)}/?directConnection=true")
        self.search_address = search.get_url()
        self.redis_address = (f"redis://{redis.get_container_host_ip()}:"
                              f"{redis.get_exposed_port(6379)}/0")
        mail = engines.mail_sink(self.ports["smtp"], self.ports["mail_http"], self.data_dir)
        self._spawn(mail.name, mail.command, env=os.environ.copy())
        self._wait("mail", lambda: self._http_ok(self.url("mail_http") + "/healthz"), timeout_s)

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_address

    def mongo_uri_for(self, database: str) -> str:
        return self.mongo_address  # one real MongoDB holds every service's database

    @property
    def elasticsearch_url(self) -> str:
        return self.search_address

    @property
    def redis_url(self) -> str:
        return self.redis_address

    def stop(self, timeout_s: float = 10) -> None:
        super().stop(timeout_s)
        for container in getattr(self, "containers", []):
            container.stop()


def make_stack(data_dir: Path) -> LocalStack:
    cls = ContainerStack if chosen_backend() == "containers" else LocalStack
    # One set of service keys per session, so tests/support/identity.py signs for every stack.
    return cls(data_dir=data_dir, ports=free_ports(), progress=lambda m: print(f"[stack] {m}"),
               service_keys=dict(SESSION_KEYS))
