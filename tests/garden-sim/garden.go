package main

// Garden's side of the external-networker protocol. These types mirror the
// JSON that Garden (guardian) writes to the networker's stdin on "up" and
// the JSON it expects back, field for field and tag for tag, so that what a
// CNI plugin finally sees in its config (after a decode/encode round trip)
// is byte-compatible with what the real garden-external-networker sends.

import "net"

// upInputs is the document Garden writes on stdin for "--action up".
// encoding/json matches keys case-insensitively, so "Pid" and "pid" both
// work, exactly as in the real networker.
type upInputs struct {
	Pid        int                    `json:"Pid"`
	Properties map[string]interface{} `json:"Properties"`
	NetOut     []netOutRule           `json:"netout_rules"`
	NetIn      []netIn                `json:"netin"`
}

// netIn is garden.NetIn: one requested port mapping. A HostPort of 0 asks
// the networker to allocate one from its pool.
type netIn struct {
	HostPort      uint32 `json:"host_port"`
	ContainerPort uint32 `json:"container_port"`
}

// portMapping is garden.PortMapping. It has no JSON tags, so it encodes
// with Go's field names ("HostPort", "ContainerPort"); Garden relies on that
// in the garden.network.mapped-ports property.
type portMapping struct {
	HostPort      uint32
	ContainerPort uint32
}

// netOutRule is garden.NetOutRule, an egress rule from the app's ASGs.
type netOutRule struct {
	Protocol uint8        `json:"protocol,omitempty"` // 0 all, 1 tcp, 2 udp, 3 icmp
	Networks []ipRange    `json:"networks,omitempty"`
	Ports    []portRange  `json:"ports,omitempty"`
	ICMPs    *icmpControl `json:"icmps,omitempty"`
	Log      bool         `json:"log,omitempty"`
}

// ipRange is garden.IPRange; net.IP encodes as its dotted string form.
type ipRange struct {
	Start net.IP `json:"start,omitempty"`
	End   net.IP `json:"end,omitempty"`
}

// portRange is garden.PortRange.
type portRange struct {
	Start uint16 `json:"start,omitempty"`
	End   uint16 `json:"end,omitempty"`
}

// icmpControl is garden.ICMPControl.
type icmpControl struct {
	Type uint8  `json:"type,omitempty"`
	Code *uint8 `json:"code,omitempty"`
}

// upOutputs is what the networker prints on stdout after a successful "up".
type upOutputs struct {
	Properties struct {
		ContainerIP      string `json:"garden.network.container-ip"`
		DeprecatedHostIP string `json:"garden.network.host-ip"`
		MappedPorts      string `json:"garden.network.mapped-ports"`
		Interface        string `json:"garden.network.interface"`
	} `json:"properties"`
	DNSServers []string `json:"dns_servers,omitempty"`
}
