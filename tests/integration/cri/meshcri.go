// meshcri: the few CRI RuntimeService calls kubelet makes for a pod sandbox, so the tests can
// drive containerd's CRI plugin (and through it mesh-cni) the way a kubelet does. Debian 12
// has no crictl; scripts/build-cni-tools.sh builds this offline against the k8s.io/cri-api copy
// vendored in Debian's containerd source package and Debian's grpc and gogo-protobuf packages.
//
// Usage: CRI_SOCK=PATH meshcri CMD ARGS...
//
//	version                        the runtime's name and version, and whether its network is ready
//	runp NAME NAMESPACE UID LOGDIR RunPodSandbox; prints the sandbox id
//	inspectp ID                    PodSandboxStatus as JSON: {"state": "SANDBOX_READY" or
//	                               "SANDBOX_NOTREADY", "status": ..., "info": containerd's
//	                               verbose info (its runtimeSpec names the pod's netns)}
//	stopp ID                       StopPodSandbox (CNI DEL)
//	rmp ID                         RemovePodSandbox (CNI DEL again, without a netns)
//	pods                           ListPodSandbox: "ID NAMESPACE/NAME STATE" per line
//
// Exit status 0 on success, 1 when the call failed (the gRPC error on stderr), 2 for usage.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: CRI_SOCK=PATH meshcri version | runp NAME NAMESPACE UID LOGDIR | inspectp ID | stopp ID | rmp ID | pods")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "meshcri:", err)
	os.Exit(1)
}

func printJSON(v interface{}) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fail(err)
	}
	fmt.Println(string(b))
}

func need(args []string, n int) {
	if len(args) != n {
		usage()
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	sock := os.Getenv("CRI_SOCK")
	if sock == "" {
		fail(fmt.Errorf("CRI_SOCK is not set"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, "passthrough:///cri", grpc.WithInsecure(), grpc.WithBlock(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}))
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	rs := cri.NewRuntimeServiceClient(conn)
	args := os.Args[2:]

	switch os.Args[1] {
	case "version":
		need(args, 0)
		v, err := rs.Version(ctx, &cri.VersionRequest{})
		if err != nil {
			fail(err)
		}
		st, err := rs.Status(ctx, &cri.StatusRequest{})
		if err != nil {
			fail(err)
		}
		printJSON(map[string]interface{}{"version": v, "status": st.Status})
	case "runp":
		need(args, 4)
		name, ns, uid, logdir := args[0], args[1], args[2], args[3]
		cfg := &cri.PodSandboxConfig{
			Metadata:     &cri.PodSandboxMetadata{Name: name, Namespace: ns, Uid: uid},
			Hostname:     name,
			LogDirectory: logdir,
			Labels: map[string]string{"io.kubernetes.pod.name": name,
				"io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.uid": uid},
			Annotations: map[string]string{"kubernetes.io/config.source": "meshcri"},
			Linux: &cri.LinuxPodSandboxConfig{
				CgroupParent: "/meshcri/" + uid,
				SecurityContext: &cri.LinuxSandboxSecurityContext{
					NamespaceOptions: &cri.NamespaceOption{Network: cri.NamespaceMode_POD,
						Pid: cri.NamespaceMode_CONTAINER, Ipc: cri.NamespaceMode_POD},
				},
			},
		}
		r, err := rs.RunPodSandbox(ctx, &cri.RunPodSandboxRequest{Config: cfg})
		if err != nil {
			fail(err)
		}
		fmt.Println(r.PodSandboxId)
	case "inspectp":
		need(args, 1)
		r, err := rs.PodSandboxStatus(ctx, &cri.PodSandboxStatusRequest{PodSandboxId: args[0], Verbose: true})
		if err != nil {
			fail(err)
		}
		var info interface{}
		if s, ok := r.Info["info"]; ok {
			if err := json.Unmarshal([]byte(s), &info); err != nil {
				info = s
			}
		}
		printJSON(map[string]interface{}{"state": r.Status.State.String(), "status": r.Status, "info": info})
	case "stopp":
		need(args, 1)
		if _, err := rs.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: args[0]}); err != nil {
			fail(err)
		}
	case "rmp":
		need(args, 1)
		if _, err := rs.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: args[0]}); err != nil {
			fail(err)
		}
	case "pods":
		need(args, 0)
		r, err := rs.ListPodSandbox(ctx, &cri.ListPodSandboxRequest{})
		if err != nil {
			fail(err)
		}
		for _, p := range r.Items {
			fmt.Printf("%s %s/%s %s\n", p.Id, p.Metadata.Namespace, p.Metadata.Name, p.State)
		}
	default:
		usage()
	}
}
