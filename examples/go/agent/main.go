// Command agent is a Switchboard agent in Go with only the generated stubs:
// it registers an instance, keeps its lease alive over KeepAlive, watches its
// service and, on SIGTERM or SIGINT, drains and deregisters. It follows the
// contract in examples/README.md ("Writing an agent in another language"):
//
//  1. Register the instance with a TTL; keep the lease id and the TTL the
//     server granted.
//  2. Renew over one KeepAlive stream every TTL/3. An answer with ttl 0 or a
//     NOT_FOUND status means the lease is gone: register again (same instance
//     id and owner). Any other stream error: reopen the stream after a
//     backoff and renew at once.
//  3. On SIGTERM: UpdateInstance state DRAINING, wait the drain time (callers
//     stop sending new calls), Deregister, exit 0.
//
// Build and run (GOPATH mode, Debian packages only; see examples/README.md):
//
//	examples/go/build.sh /tmp/go-agent && /tmp/go-agent/bin/agent --address localhost:7000 --service orders --port 8080
//
// Every step prints one line on stdout ("registered …", "renewed …",
// "watch snapshot …", "watch ADDED …", "draining …", "deregistered …").
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	registryv1 "switchboard.example/gen/switchboard/registry/v1"
)

type agent struct {
	client   registryv1.RegistryServiceClient
	instance *registryv1.Instance
	ttl      uint32

	mu      sync.Mutex
	leaseID int64
	granted uint32
}

func main() {
	address := flag.String("address", envOr("SWITCHBOARD_ADDRESS", "localhost:7000"), "control plane host:port")
	namespace := flag.String("namespace", "default", "namespace")
	service := flag.String("service", "", "service name (required)")
	id := flag.String("id", "", "instance id (default: go-<pid>)")
	host := flag.String("host", "127.0.0.1", "address callers reach the instance on")
	port := flag.Uint("port", 0, "port callers reach the instance on (required)")
	ttl := flag.Uint("ttl", 10, "lease TTL in seconds")
	drain := flag.Duration("drain", 2*time.Second, "time spent DRAINING before deregistering")
	flag.Parse()
	if *service == "" || *port == 0 {
		fmt.Fprintln(os.Stderr, "usage: agent --service NAME --port PORT [--address HOST:PORT] [--namespace NS] [--id ID] [--ttl S] [--drain D]")
		os.Exit(2)
	}
	if *id == "" {
		*id = fmt.Sprintf("go-%d", os.Getpid())
	}

	conn, err := grpc.Dial(*address, grpc.WithInsecure())
	if err != nil {
		fail("dial", err)
	}
	defer conn.Close()

	a := &agent{
		client: registryv1.NewRegistryServiceClient(conn),
		instance: &registryv1.Instance{
			Namespace: *namespace, Service: *service, InstanceId: *id,
			Address: *host, Port: uint32(*port),
			// The owner makes registering again after a lost lease idempotent.
			Owner: fmt.Sprintf("go-agent-%d", os.Getpid()),
		},
		ttl: uint32(*ttl),
	}

	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)

	if err := a.register(ctx); err != nil {
		fail("register", err)
	}
	go a.keepAlive(ctx)
	go a.watch(ctx)

	sig := <-signals
	// Leave gracefully: DRAINING first so callers stop sending, then deregister.
	fmt.Printf("draining signal=%s for=%s\n", sig, *drain)
	state := registryv1.InstanceState_INSTANCE_STATE_DRAINING
	callCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	if _, err := a.client.UpdateInstance(callCtx, &registryv1.UpdateInstanceRequest{
		Namespace: *namespace, Service: *service, InstanceId: *id, State: &state,
	}); err != nil {
		fmt.Fprintf(os.Stderr, "update to DRAINING failed: %v\n", err)
	}
	done()
	time.Sleep(*drain)
	cancel()
	callCtx, done = context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	reply, err := a.client.Deregister(callCtx, &registryv1.DeregisterRequest{Namespace: *namespace, Service: *service, InstanceId: *id})
	if err != nil {
		fail("deregister", err)
	}
	fmt.Printf("deregistered id=%s revision=%d\n", *id, reply.Revision)
}

// register (re)registers the instance, retrying with backoff until it succeeds or ctx ends.
func (a *agent) register(ctx context.Context) error {
	backoff := 200 * time.Millisecond
	for {
		callCtx, done := context.WithTimeout(ctx, 5*time.Second)
		reply, err := a.client.Register(callCtx, &registryv1.RegisterRequest{Instance: a.instance, TtlSeconds: a.ttl})
		done()
		if err == nil {
			a.mu.Lock()
			a.leaseID, a.granted = reply.LeaseId, reply.TtlSeconds
			a.mu.Unlock()
			fmt.Printf("registered id=%s lease=%d ttl=%d revision=%d\n", a.instance.InstanceId, reply.LeaseId, reply.TtlSeconds, reply.Revision)
			return nil
		}
		if code := status.Code(err); code == codes.InvalidArgument || code == codes.AlreadyExists || ctx.Err() != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "register failed (%v); retrying in %s\n", err, backoff)
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = minDuration(2*backoff, 5*time.Second)
	}
}

// keepAlive renews the lease every TTL/3 over one stream, re-registering when the lease is gone.
func (a *agent) keepAlive(ctx context.Context) {
	backoff := 200 * time.Millisecond
	for ctx.Err() == nil {
		lost, err := a.renewOverStream(ctx)
		if ctx.Err() != nil {
			return
		}
		if lost || status.Code(err) == codes.NotFound {
			fmt.Printf("lease lost; registering again\n")
			if err := a.register(ctx); err != nil {
				return
			}
			backoff = 200 * time.Millisecond
			continue
		}
		fmt.Fprintf(os.Stderr, "keepalive stream broke (%v); reopening in %s\n", err, backoff)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = minDuration(2*backoff, 5*time.Second)
	}
}

// renewOverStream runs one KeepAlive stream: true when the server answered ttl 0 (lease gone).
func (a *agent) renewOverStream(ctx context.Context) (bool, error) {
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := a.client.KeepAlive(streamCtx)
	if err != nil {
		return false, err
	}
	sendErr := make(chan error, 1)
	go func() {
		for {
			a.mu.Lock()
			lease, ttl := a.leaseID, a.granted
			a.mu.Unlock()
			// Renew at once (the lease may have been waiting while the stream was down), then every TTL/3.
			if err := stream.Send(&registryv1.KeepAliveRequest{LeaseId: lease}); err != nil {
				sendErr <- err
				return
			}
			if !sleep(streamCtx, time.Duration(ttl)*time.Second/3) {
				return
			}
		}
	}()
	for {
		reply, err := stream.Recv()
		if err != nil {
			select {
			case e := <-sendErr:
				return false, e
			default:
				return false, err
			}
		}
		if reply.TtlSeconds == 0 {
			return true, nil
		}
		fmt.Printf("renewed lease=%d ttl=%d\n", reply.LeaseId, reply.TtlSeconds)
	}
}

// watch prints the service's instances: a snapshot, then every change; it resumes from the last revision after errors.
func (a *agent) watch(ctx context.Context) {
	var since int64
	for ctx.Err() == nil {
		stream, err := a.client.Watch(ctx, &registryv1.WatchRequest{Namespace: a.instance.Namespace, Service: a.instance.Service, SinceRevision: since})
		if err == nil {
			for {
				message, recvErr := stream.Recv()
				if recvErr != nil {
					err = recvErr
					break
				}
				switch kind := message.Kind.(type) {
				case *registryv1.WatchResponse_Snapshot:
					ids := make([]string, 0, len(kind.Snapshot.Instances))
					for _, instance := range kind.Snapshot.Instances {
						ids = append(ids, instance.InstanceId)
					}
					sort.Strings(ids)
					since = kind.Snapshot.Revision
					fmt.Printf("watch snapshot revision=%d instances=%s\n", since, strings.Join(ids, ","))
				case *registryv1.WatchResponse_Event:
					since = kind.Event.Revision
					name := strings.TrimPrefix(kind.Event.Type.String(), "EVENT_TYPE_")
					fmt.Printf("watch %s id=%s revision=%d\n", name, kind.Event.Instance.GetInstanceId(), since)
				case *registryv1.WatchResponse_Bookmark:
					since = kind.Bookmark.Revision
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "watch ended (%v); resuming after revision %d\n", err, since)
		sleep(ctx, time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func minDuration(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}
