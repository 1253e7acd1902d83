package example.agent;

import example.switchboard.registry.v1.DeregisterRequest;
import example.switchboard.registry.v1.DeregisterResponse;
import example.switchboard.registry.v1.Instance;
import example.switchboard.registry.v1.InstanceState;
import example.switchboard.registry.v1.KeepAliveRequest;
import example.switchboard.registry.v1.KeepAliveResponse;
import example.switchboard.registry.v1.RegisterRequest;
import example.switchboard.registry.v1.RegisterResponse;
import example.switchboard.registry.v1.RegistryServiceGrpc;
import example.switchboard.registry.v1.UpdateInstanceRequest;
import example.switchboard.registry.v1.WatchEvent;
import example.switchboard.registry.v1.WatchRequest;
import example.switchboard.registry.v1.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Switchboard agent in Java with only the generated stubs: registers an
 * instance, keeps its lease alive over KeepAlive, watches its service and, on
 * SIGTERM or SIGINT, drains and deregisters. It follows the contract in
 * examples/README.md ("Writing an agent in another language"):
 *
 * <ol>
 *   <li>Register with a TTL; keep the lease id and the TTL the server granted.
 *   <li>Renew over one KeepAlive stream every TTL/3. An answer with ttl 0 or a
 *       NOT_FOUND status means the lease is gone: register again (same id and
 *       owner). Any other stream error: reopen after a backoff, renew at once.
 *   <li>On SIGTERM: UpdateInstance state DRAINING, wait the drain time,
 *       Deregister, exit 0.
 * </ol>
 *
 * <p>Build and run (Debian packages only; see examples/README.md):
 * {@code examples/java/build.sh /tmp/java-agent && examples/java/run.sh /tmp/java-agent --service orders --port 8080}
 *
 * <p>Every step prints one line on stdout ("registered …", "renewed …",
 * "watch snapshot …", "watch ADDED …", "draining …", "deregistered …").
 */
public final class Agent {
  private final RegistryServiceGrpc.RegistryServiceBlockingStub blocking;
  private final RegistryServiceGrpc.RegistryServiceStub async;
  private final Instance instance;
  private final int ttl;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
  private final AtomicLong leaseId = new AtomicLong();
  private volatile int granted;
  private volatile boolean stopping;
  private volatile long since;

  private Agent(ManagedChannel channel, Instance instance, int ttl) {
    this.blocking = RegistryServiceGrpc.newBlockingStub(channel);
    this.async = RegistryServiceGrpc.newStub(channel);
    this.instance = instance;
    this.ttl = ttl;
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = parseFlags(args);
    String address = flags.getOrDefault("address", envOr("SWITCHBOARD_ADDRESS", "localhost:7000"));
    String service = flags.get("service");
    String port = flags.get("port");
    if (service == null || port == null) {
      System.err.println("usage: Agent --service NAME --port PORT [--address HOST:PORT] [--namespace NS] [--id ID] [--host H] [--ttl S] [--drain-ms MS]");
      System.exit(2);
    }
    long pid = ProcessHandle.current().pid();
    String namespace = flags.getOrDefault("namespace", "default");
    String id = flags.getOrDefault("id", "java-" + pid);
    long drainMs = Long.parseLong(flags.getOrDefault("drain-ms", "2000"));
    Instance instance =
        Instance.newBuilder()
            .setNamespace(namespace)
            .setService(service)
            .setInstanceId(id)
            .setAddress(flags.getOrDefault("host", "127.0.0.1"))
            .setPort(Integer.parseInt(port))
            // The owner makes registering again after a lost lease idempotent.
            .setOwner("java-agent-" + pid)
            .build();

    ManagedChannel channel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
    Agent agent = new Agent(channel, instance, Integer.parseInt(flags.getOrDefault("ttl", "10")));
    CountDownLatch stop = new CountDownLatch(1);
    // Handle SIGTERM and SIGINT ourselves (sun.misc.Signal, in jdk.unsupported): a shutdown hook
    // would run too, but the JVM would still exit 143; a drained agent should exit 0.
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> stop.countDown());
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> stop.countDown());

    agent.register();
    agent.keepAlive(200);
    agent.watch();
    stop.await();
    agent.leave(drainMs);
    channel.shutdownNow();
    System.exit(0);
  }

  /** Registers (again), retrying transient errors with backoff. */
  private void register() throws InterruptedException {
    long backoff = 200;
    while (true) {
      try {
        RegisterResponse reply =
            blocking
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .register(RegisterRequest.newBuilder().setInstance(instance).setTtlSeconds(ttl).build());
        leaseId.set(reply.getLeaseId());
        granted = reply.getTtlSeconds();
        System.out.printf("registered id=%s lease=%d ttl=%d revision=%d%n", instance.getInstanceId(), reply.getLeaseId(), reply.getTtlSeconds(), reply.getRevision());
        return;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.INVALID_ARGUMENT || code == Status.Code.ALREADY_EXISTS) throw e;
        System.err.printf("register failed (%s); retrying in %d ms%n", e.getStatus(), backoff);
        Thread.sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  /** One KeepAlive stream renewing every TTL/3; on its end, re-registers or reopens it. */
  private void keepAlive(long backoffMs) {
    if (stopping) return;
    final ScheduledFuture<?>[] timer = new ScheduledFuture<?>[1];
    StreamObserver<KeepAliveRequest> requests =
        async.keepAlive(
            new StreamObserver<KeepAliveResponse>() {
              private boolean lost;

              @Override
              public void onNext(KeepAliveResponse reply) {
                if (reply.getTtlSeconds() == 0) {
                  lost = true;
                  timer[0].cancel(false);
                  reconnect(true, null);
                  return;
                }
                System.out.printf("renewed lease=%d ttl=%d%n", reply.getLeaseId(), reply.getTtlSeconds());
              }

              @Override
              public void onError(Throwable error) {
                timer[0].cancel(false);
                if (lost) return;
                boolean notFound = Status.fromThrowable(error).getCode() == Status.Code.NOT_FOUND;
                reconnect(notFound, error);
              }

              @Override
              public void onCompleted() {
                timer[0].cancel(false);
                if (!lost) reconnect(false, null);
              }

              private void reconnect(boolean leaseGone, Throwable error) {
                if (stopping) return;
                if (leaseGone) {
                  System.out.println("lease lost; registering again");
                  scheduler.execute(
                      () -> {
                        try {
                          register();
                          keepAlive(200);
                        } catch (Exception e) {
                          System.err.println("register failed: " + e);
                        }
                      });
                } else {
                  System.err.printf("keepalive stream broke (%s); reopening in %d ms%n", error, backoffMs);
                  scheduler.schedule(() -> keepAlive(Math.min(backoffMs * 2, 5_000)), backoffMs, TimeUnit.MILLISECONDS);
                }
              }
            });
    long periodMs = Math.max(1, granted * 1000L / 3);
    // Renew at once (the lease may have waited while the stream was down), then every TTL/3.
    timer[0] =
        scheduler.scheduleAtFixedRate(
            () -> {
              synchronized (requests) {
                requests.onNext(KeepAliveRequest.newBuilder().setLeaseId(leaseId.get()).build());
              }
            },
            0,
            periodMs,
            TimeUnit.MILLISECONDS);
  }

  /** Prints the service's instances: a snapshot, then every change; resumes after the last revision. */
  private void watch() {
    if (stopping) return;
    WatchRequest request =
        WatchRequest.newBuilder().setNamespace(instance.getNamespace()).setService(instance.getService()).setSinceRevision(since).build();
    async.watch(
        request,
        new StreamObserver<WatchResponse>() {
          @Override
          public void onNext(WatchResponse message) {
            switch (message.getKindCase()) {
              case SNAPSHOT:
                List<String> ids = new ArrayList<>();
                for (Instance i : message.getSnapshot().getInstancesList()) ids.add(i.getInstanceId());
                Collections.sort(ids);
                since = message.getSnapshot().getRevision();
                System.out.printf("watch snapshot revision=%d instances=%s%n", since, String.join(",", ids));
                break;
              case EVENT:
                WatchEvent event = message.getEvent();
                since = event.getRevision();
                System.out.printf("watch %s id=%s revision=%d%n", event.getType().name().replace("EVENT_TYPE_", ""), event.getInstance().getInstanceId(), since);
                break;
              case BOOKMARK:
                since = message.getBookmark().getRevision();
                break;
              default:
                break;
            }
          }

          @Override
          public void onError(Throwable error) {
            if (stopping) return;
            System.err.printf("watch ended (%s); resuming after revision %d%n", Status.fromThrowable(error), since);
            scheduler.schedule(Agent.this::watch, 1, TimeUnit.SECONDS);
          }

          @Override
          public void onCompleted() {
            onError(Status.UNAVAILABLE.withDescription("stream completed").asRuntimeException());
          }
        });
  }

  /** Graceful leave: DRAINING so callers stop sending new calls, wait, then deregister. */
  private void leave(long drainMs) throws InterruptedException {
    System.out.printf("draining for=%dms%n", drainMs);
    try {
      blocking
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .updateInstance(
              UpdateInstanceRequest.newBuilder()
                  .setNamespace(instance.getNamespace())
                  .setService(instance.getService())
                  .setInstanceId(instance.getInstanceId())
                  .setState(InstanceState.INSTANCE_STATE_DRAINING)
                  .build());
    } catch (StatusRuntimeException e) {
      System.err.println("update to DRAINING failed: " + e.getStatus());
    }
    Thread.sleep(drainMs);
    stopping = true;
    scheduler.shutdownNow();
    DeregisterResponse reply =
        blocking
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .deregister(
                DeregisterRequest.newBuilder()
                    .setNamespace(instance.getNamespace())
                    .setService(instance.getService())
                    .setInstanceId(instance.getInstanceId())
                    .build());
    System.out.printf("deregistered id=%s revision=%d%n", instance.getInstanceId(), reply.getRevision());
    System.out.flush();
  }

  private static Map<String, String> parseFlags(String[] args) {
    Map<String, String> flags = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("expected --flag value, got " + args[i]);
      flags.put(args[i].substring(2), args[++i]);
    }
    return flags;
  }

  private static String envOr(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
