// Command garden-sim drives a CNI plugin exactly the way Cloud Foundry's
// garden-external-networker does, so that cni-ovs can be tested against
// the real libcni without a Garden/Diego deployment.
//
//	garden-sim --action up   --handle H --cni-config-dir D --cni-plugin-dir P --netns NS < garden.json
//	garden-sim --action down --handle H --cni-config-dir D --cni-plugin-dir P --netns NS
//	garden-sim --action check ...   (CheckNetworkList; not part of the real networker)
//
// On success "up" prints Garden's JSON (container IP, mapped ports, DNS
// servers) on stdout. Any failure exits 1 with the error on stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types040 "github.com/containernetworking/cni/pkg/types/040"
)

// options holds the command line.
type options struct {
	action     string
	handle     string
	configDir  string
	pluginDir  string
	netns      string
	cacheDir   string
	stateFile  string
	startPort  uint
	totalPorts uint
	withInputs bool
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("garden-sim", flag.ContinueOnError)
	fs.StringVar(&o.action, "action", "", "up, down or check")
	fs.StringVar(&o.handle, "handle", "", "container handle (CNI_CONTAINERID)")
	fs.StringVar(&o.configDir, "cni-config-dir", "", "directory holding the *.conflist / *.conf")
	fs.StringVar(&o.pluginDir, "cni-plugin-dir", "", "plugin directory (a colon-separated list is accepted)")
	fs.StringVar(&o.netns, "netns", "", "network namespace path (CNI_NETNS); for up defaults to /proc/<Pid>/ns/net when stdin has a Pid")
	fs.StringVar(&o.cacheDir, "cache-dir", libcni.CacheDir, "libcni's result cache directory")
	fs.StringVar(&o.stateFile, "state-file", "/tmp/garden-sim-ports.json", "host port allocation state (flock'ed)")
	fs.UintVar(&o.startPort, "start-port", 61000, "first host port handed out for netin host_port 0")
	fs.UintVar(&o.totalPorts, "total-ports", 65536-61000, "size of the host port pool")
	fs.BoolVar(&o.withInputs, "with-inputs", false, "check only: read Garden's up JSON from stdin and inject it as up does")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}

	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected extra args: %v", fs.Args())
	case o.action == "":
		return nil, errors.New("missing required flag 'action'")
	case o.handle == "":
		return nil, errors.New("missing required flag 'handle'")
	case o.configDir == "":
		return nil, errors.New("missing required flag 'cni-config-dir'")
	case o.pluginDir == "":
		return nil, errors.New("missing required flag 'cni-plugin-dir'")
	case o.netns == "" && o.action != "up":
		return nil, errors.New("missing required flag 'netns'")
	case o.startPort == 0 || o.startPort+o.totalPorts > 65536:
		return nil, errors.New("bad host port range")
	}
	return o, nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		msg := err.Error()
		// libcni wraps the plugin's CNI error; show its code as well.
		var cniErr *types.Error
		if errors.As(err, &cniErr) {
			msg = fmt.Sprintf("%s (CNI error code %d)", msg, cniErr.Code)
		}
		fmt.Fprintf(os.Stderr, "garden-sim: %s\n", msg)
		os.Exit(1)
	}
}

func run(args []string) error {
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h: the usage has been printed
	} else if err != nil {
		return fmt.Errorf("parse args: %w", err)
	}

	list, err := loadNetworkList(o.configDir)
	if err != nil {
		return fmt.Errorf("load cni config: %w", err)
	}

	// Unlike the real networker (which uses libcni's default), the cache
	// directory is configurable so tests need not touch /var/lib/cni.
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(o.pluginDir), o.cacheDir, nil)
	ports := &portAllocator{
		StateFile: o.stateFile,
		Start:     uint32(o.startPort),
		Total:     uint32(o.totalPorts),
	}

	switch o.action {
	case "up":
		var in upInputs
		if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
			return fmt.Errorf("decoding stdin: %w", err)
		}
		out, err := up(cni, list, ports, o, &in)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(out)
	case "down":
		return down(cni, list, ports, o)
	case "check":
		return check(cni, list, ports, o)
	default:
		return fmt.Errorf("unrecognized action: %s", o.action)
	}
}

// runtimeConf is the per-invocation CNI data: garden-external-networker
// sets only these three fields (no CNI_ARGS, no capability arguments).
func runtimeConf(o *options) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{
		ContainerID: o.handle,
		NetNS:       o.netns,
		IfName:      "eth0",
	}
}

// up allocates host ports, runs ADD over the whole list and turns the
// result into Garden's properties.
func up(cni *libcni.CNIConfig, list *libcni.NetworkConfigList, ports *portAllocator,
	o *options, in *upInputs) (*upOutputs, error) {
	if o.netns == "" {
		if in.Pid == 0 {
			return nil, errors.New("missing required flag 'netns' (and no Pid on stdin)")
		}
		o.netns = fmt.Sprintf("/proc/%d/ns/net", in.Pid)
	}

	// Host port 0 means "pick one". Like the real networker, ports are not
	// given back if a later step fails: Garden calls down, which frees them.
	var want int
	for _, n := range in.NetIn {
		if n.HostPort == 0 {
			want++
		}
	}
	if want > 0 {
		got, err := ports.Allocate(o.handle, want)
		if err != nil {
			return nil, fmt.Errorf("allocating port: %w", err)
		}
		fillHostPorts(in.NetIn, got)
	}
	mapped := []portMapping{} // "[]", never "null", when there is no netin
	for _, n := range in.NetIn {
		mapped = append(mapped, portMapping{HostPort: n.HostPort, ContainerPort: n.ContainerPort})
	}

	if err := injectGardenKeys(list, in); err != nil {
		return nil, err
	}
	result, err := cni.AddNetworkList(context.TODO(), list, runtimeConf(o))
	if err != nil {
		return nil, fmt.Errorf("cni up failed: add network list failed: %w", err)
	}
	if result == nil {
		return nil, errors.New("cni up failed: no ip allocated")
	}

	// Garden's networker reads the result as CNI 0.4.0.
	converted, err := result.GetAsVersion("0.4.0")
	if err != nil {
		return nil, fmt.Errorf("cni plugin result version incompatible: %w", err)
	}
	res, ok := converted.(*types040.Result)
	if !ok {
		return nil, fmt.Errorf("cni plugin result has unexpected type %T", converted)
	}

	var ip *types040.IPConfig
	for _, c := range res.IPs {
		if c.Version == "4" {
			ip = c
			break
		}
	}
	switch {
	case ip == nil:
		return nil, errors.New("expected an IPv4 address in the CNI result")
	case ip.Interface == nil:
		return nil, errors.New("pointer to container interface is nil")
	case *ip.Interface < 0 || *ip.Interface >= len(res.Interfaces):
		return nil, fmt.Errorf("no corresponding interface found, interface index: %d, number of interfaces: %d",
			*ip.Interface, len(res.Interfaces))
	}

	mappedJSON, err := json.Marshal(mapped)
	if err != nil {
		return nil, err
	}
	out := &upOutputs{DNSServers: res.DNS.Nameservers}
	out.Properties.ContainerIP = ip.Address.IP.String()
	out.Properties.DeprecatedHostIP = "255.255.255.255"
	out.Properties.MappedPorts = string(mappedJSON)
	out.Properties.Interface = res.Interfaces[*ip.Interface].Name
	return out, nil
}

// fillHostPorts assigns ports, in order, to the entries with host port 0.
func fillHostPorts(netIn []netIn, ports []uint32) {
	for i := range netIn {
		if netIn[i].HostPort == 0 && len(ports) > 0 {
			netIn[i].HostPort, ports = ports[0], ports[1:]
		}
	}
}

// down runs DEL over the list (libcni supplies the cached ADD result as
// prevResult for CNI >= 0.4.0) and frees the handle's host ports. The
// config is passed as found on disk, without Garden's keys.
func down(cni *libcni.CNIConfig, list *libcni.NetworkConfigList, ports *portAllocator, o *options) error {
	if err := cni.DelNetworkList(context.TODO(), list, runtimeConf(o)); err != nil {
		return fmt.Errorf("cni down: del network failed: %w", err)
	}
	// The real networker only logs a failure to free ports.
	if err := ports.ReleaseAll(o.handle); err != nil {
		fmt.Fprintf(os.Stderr, "garden-sim: releasing ports: %s\n", err)
	}
	return nil
}

// check runs CHECK over the list. libcni refuses configs older than
// 0.4.0 and silently succeeds when the list sets disableCheck. With
// --with-inputs, Garden's up JSON is read from stdin and injected as up
// does; host_port 0 entries get the ports already held by the handle.
func check(cni *libcni.CNIConfig, list *libcni.NetworkConfigList, ports *portAllocator, o *options) error {
	if o.withInputs {
		var in upInputs
		if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
			return fmt.Errorf("decoding stdin: %w", err)
		}
		held, err := ports.Owned(o.handle)
		if err != nil {
			return err
		}
		fillHostPorts(in.NetIn, held)
		if err := injectGardenKeys(list, &in); err != nil {
			return err
		}
	}
	if err := cni.CheckNetworkList(context.TODO(), list, runtimeConf(o)); err != nil {
		return fmt.Errorf("cni check: %w", err)
	}
	return nil
}
