#!/usr/bin/python3
"""Switchboard from Python: register, heartbeat, keep alive, watch, resume.

A polyglot proof: a client generated from proto/ with Debian's protoc and
grpc_python_plugin (see buf.gen.yaml / generate.sh) drives the registry the way
a non-Node service would, and asserts what the contract promises:

  * Register returns a lease; the instance shows up in a Watch snapshot.
  * Unary Heartbeat and the KeepAlive stream keep it alive past several TTLs.
  * An instance registered with a short TTL and no heartbeat leaves the watch
    stream (as REMOVED) within TTL + 1 s of its last renewal.
  * A watch resumed with since_revision replays exactly the missed events.
  * DRAINING takes an instance out of the default watch; Deregister removes it.
  * A heartbeat on an expired lease answers NOT_FOUND; bad input INVALID_ARGUMENT.

Run (stubs on PYTHONPATH):
  PYTHONPATH=OUT /usr/bin/python3 examples/python/registry_example.py --address 127.0.0.1:7000
Against a TLS server add --ca-file CA.crt (and --cert-file/--key-file under mTLS), or set
SWITCHBOARD_CA_FILE, SWITCHBOARD_CERT_FILE and SWITCHBOARD_KEY_FILE.

Against a server started with --auth, pass a token with register and read on
the namespace (--token, or $SWITCHBOARD_TOKEN): it goes with every call as
`authorization: Bearer <token>` metadata.

Prints one line per step and "OK" at the end; exits non-zero on the first failed check.
"""
import argparse
import os
import queue
import sys
import threading
import time
import uuid

import grpc

from switchboard.registry.v1 import registry_pb2 as pb
from switchboard.registry.v1 import registry_pb2_grpc as pb_grpc

# Upper bound for "leaves within TTL + 1 s", plus slack for a busy test machine.
REMOVAL_SLACK_S = 1.5


class _BearerToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds `authorization: Bearer <token>` to every call of a channel."""

    def __init__(self, token):
        self._header = ("authorization", "Bearer " + token)

    def _details(self, details):
        metadata = list(details.metadata or []) + [self._header]
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else _CallDetails(details, metadata)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._details(details), requests)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, details, metadata):
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = getattr(details, "wait_for_ready", None)
        self.compression = getattr(details, "compression", None)


def log(message):
    print(message, flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Watcher:
    """Runs one Watch stream in a thread and queues (time received, message)."""

    def __init__(self, stub, request):
        self.messages = queue.Queue()
        self.call = stub.Watch(request)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for message in self.call:
                self.messages.put((time.monotonic(), message))
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                self.messages.put((time.monotonic(), error))

    def next(self, timeout=10.0, skip_bookmarks=True):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no watch message within %.1f s" % timeout)
            received, message = self.messages.get(timeout=remaining)
            if isinstance(message, Exception):
                raise message
            if skip_bookmarks and message.WhichOneof("kind") == "bookmark":
                continue
            return received, message

    def close(self):
        self.call.cancel()
        self.thread.join(timeout=5)


def read_file(path):
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read()


def open_channel(args):
    """A plaintext channel, or TLS when a CA, certificate or key file is given."""
    if not (args.ca_file or args.cert_file or args.key_file):
        return grpc.insecure_channel(args.address)
    if bool(args.cert_file) != bool(args.key_file):
        raise SystemExit("--cert-file and --key-file go together")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read_file(args.ca_file),
        private_key=read_file(args.key_file),
        certificate_chain=read_file(args.cert_file),
    )
    return grpc.secure_channel(args.address, credentials)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--address", default=os.environ.get("SWITCHBOARD_ADDRESS", "localhost:7000"))
    parser.add_argument("--token", default=os.environ.get("SWITCHBOARD_TOKEN", ""), help="bearer token for a server with --auth")
    parser.add_argument("--namespace", default="py-" + uuid.uuid4().hex[:8])
    parser.add_argument("--ttl", type=int, default=2, help="short TTL for the expiry check (etcd's floor is 2)")
    # TLS, with the same variables as the Switchboard CLI and SDK; any of them turns TLS on.
    parser.add_argument("--ca-file", default=os.environ.get("SWITCHBOARD_CA_FILE"), help="PEM CA of the server certificate")
    parser.add_argument("--cert-file", default=os.environ.get("SWITCHBOARD_CERT_FILE"), help="PEM client certificate (mTLS)")
    parser.add_argument("--key-file", default=os.environ.get("SWITCHBOARD_KEY_FILE"), help="PEM key of --cert-file")
    args = parser.parse_args()
    ns = args.namespace
    service = "inventory"

    channel = open_channel(args)
    grpc.channel_ready_future(channel).result(timeout=15)
    if args.token:
        channel = grpc.intercept_channel(channel, _BearerToken(args.token))
    stub = pb_grpc.RegistryServiceStub(channel)

    def register(instance_id, port, ttl):
        return stub.Register(
            pb.RegisterRequest(
                instance=pb.Instance(
                    namespace=ns,
                    service=service,
                    instance_id=instance_id,
                    address="127.0.0.1",
                    port=port,
                    metadata={"lang": "python"},
                    owner="python-example",
                ),
                ttl_seconds=ttl,
            ),
            timeout=10,
        )

    # 1. Register and see it in a watch snapshot.
    kept = register("kept", 8001, args.ttl)
    check(kept.lease_id != 0 and kept.revision > 0, "Register returns lease and revision")
    check(kept.instance.instance_id == "kept" and kept.instance.metadata["lang"] == "python", "stored instance echoes the request")
    log("registered kept: lease %d, ttl %d s, revision %d" % (kept.lease_id, kept.ttl_seconds, kept.revision))

    watcher = Watcher(stub, pb.WatchRequest(namespace=ns, service=service))
    _, first = watcher.next()
    check(first.WhichOneof("kind") == "snapshot", "a watch starts with a snapshot")
    check([i.instance_id for i in first.snapshot.instances] == ["kept"], "snapshot holds the instance")
    check(first.snapshot.revision >= kept.revision, "snapshot reflects the registration")
    last_revision = first.snapshot.revision
    log("watch snapshot at revision %d: %s" % (last_revision, [i.instance_id for i in first.snapshot.instances]))

    # 2. A second instance with the same short TTL that never renews: it must leave the stream.
    doomed = register("doomed", 8002, args.ttl)
    doomed_at = time.monotonic()
    _, added = watcher.next()
    check(added.event.type == pb.EVENT_TYPE_ADDED and added.event.instance.instance_id == "doomed", "ADDED doomed")
    check(added.event.revision > last_revision, "event revisions increase")
    last_revision = added.event.revision

    # 3. Meanwhile keep "kept" alive: unary Heartbeat and the KeepAlive stream, ttl/3 apart.
    renew_every = args.ttl / 3.0
    requests = queue.Queue()

    def keepalive_requests():
        while True:
            lease = requests.get()
            if lease is None:
                return
            yield pb.KeepAliveRequest(lease_id=lease)

    keepalive = stub.KeepAlive(keepalive_requests())
    removed_after = None
    heartbeats = 0
    renewals = 0
    end = time.monotonic() + 3 * args.ttl + 1
    next_renewal = time.monotonic()
    while time.monotonic() < end:
        if time.monotonic() >= next_renewal:
            if heartbeats <= renewals:
                beat = stub.Heartbeat(pb.HeartbeatRequest(lease_id=kept.lease_id), timeout=5)
                check(beat.ttl_seconds > 0, "Heartbeat renews the lease")
                heartbeats += 1
            else:
                requests.put(kept.lease_id)
                response = next(keepalive)
                check(response.lease_id == kept.lease_id and response.ttl_seconds > 0, "KeepAlive renews the lease")
                renewals += 1
            next_renewal += renew_every
        try:
            received, message = watcher.next(timeout=0.05)
        except (AssertionError, queue.Empty):
            continue
        event = message.event
        check(message.WhichOneof("kind") == "event", "only events after the snapshot")
        check(event.revision > last_revision, "event revisions increase")
        last_revision = event.revision
        check(event.instance.instance_id == "doomed" and event.type == pb.EVENT_TYPE_REMOVED, "only doomed leaves, as REMOVED")
        removed_after = received - doomed_at
    requests.put(None)
    keepalive.cancel()
    check(removed_after is not None, "the instance without heartbeats left the watch")
    check(removed_after <= args.ttl + REMOVAL_SLACK_S, "removed within TTL + 1 s (took %.2f s)" % removed_after)
    log("doomed (no heartbeat) removed %.2f s after registering with ttl %d s" % (removed_after, args.ttl))
    log("kept alive over %.0f s with %d heartbeats and %d keepalives" % (3 * args.ttl + 1, heartbeats, renewals))
    listed = stub.ListInstances(pb.ListInstancesRequest(namespace=ns, service=service), timeout=5)
    check([i.instance_id for i in listed.instances] == ["kept"], "kept is still listed after several TTLs")

    # 4. Expired lease: heartbeat answers NOT_FOUND.
    try:
        stub.Heartbeat(pb.HeartbeatRequest(lease_id=doomed.lease_id), timeout=5)
        check(False, "heartbeat on an expired lease must fail")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.NOT_FOUND, "expired lease -> NOT_FOUND, got %s" % error.code())
    log("heartbeat on the expired lease: NOT_FOUND")

    # 5. Resume: close the watch, change things, resume after the last revision seen.
    watcher.close()
    resume_from = last_revision
    extra = register("extra", 8003, 30)
    stub.UpdateInstance(
        pb.UpdateInstanceRequest(namespace=ns, service=service, instance_id="kept", state=pb.INSTANCE_STATE_DRAINING),
        timeout=5,
    )
    gone = stub.Deregister(pb.DeregisterRequest(namespace=ns, service=service, instance_id="extra"), timeout=5)
    resumed = Watcher(stub, pb.WatchRequest(namespace=ns, service=service, since_revision=resume_from))
    replay = []
    while len(replay) < 3:
        _, message = resumed.next()
        check(message.WhichOneof("kind") == "event", "a resumed watch replays events, not a snapshot")
        replay.append(message.event)
    resumed.close()
    names = [(pb.EventType.Name(e.type), e.instance.instance_id) for e in replay]
    check(
        names == [("EVENT_TYPE_ADDED", "extra"), ("EVENT_TYPE_REMOVED", "kept"), ("EVENT_TYPE_REMOVED", "extra")],
        "resume replays exactly the missed events (DRAINING leaves the default watch): %s" % names,
    )
    check(replay[0].revision == extra.revision and replay[2].revision == gone.revision, "replayed events carry their revisions")
    check(all(a.revision < b.revision for a, b in zip(replay, replay[1:])), "replayed revisions increase")
    log("resumed after revision %d: %s" % (resume_from, names))

    # 6. Bad input is rejected and names the field.
    try:
        stub.Register(pb.RegisterRequest(instance=pb.Instance(namespace=ns, service="Not A Name", address="127.0.0.1", port=1)), timeout=5)
        check(False, "an invalid service name must be rejected")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.INVALID_ARGUMENT, "bad name -> INVALID_ARGUMENT, got %s" % error.code())
        check("service" in error.details(), "the error names the field: %s" % error.details())
        log("invalid service name: INVALID_ARGUMENT (%s)" % error.details())

    stub.Deregister(pb.DeregisterRequest(namespace=ns, service=service, instance_id="kept"), timeout=5)
    channel.close()
    log("OK")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print("FAILED: %s" % failure, file=sys.stderr, flush=True)
        sys.exit(1)
