package main

// A minimal version of garden-external-networker's host port allocator:
// a JSON state file, guarded by flock(2), recording which handle owns which
// host port. Ports are handed out lowest-free-first from
// [start, start+total).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"syscall"
)

// portPool is the on-disk state: handle -> ports it holds. The layout is
// the one the real networker uses ({"acquired_ports": {...}}).
type portPool struct {
	AcquiredPorts map[string][]uint32 `json:"acquired_ports"`
}

// portAllocator hands out host ports from a range, persisting the
// assignments in StateFile.
type portAllocator struct {
	StateFile string
	Start     uint32
	Total     uint32
}

// withPool opens and locks the state file, decodes it, runs fn and, if fn
// reports a change, writes the pool back before unlocking.
func (a *portAllocator) withPool(fn func(p *portPool) (changed bool, err error)) error {
	f, err := os.OpenFile(a.StateFile, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open state file: %w", err)
	}
	defer f.Close() // closing also drops the lock

	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock state file %s: %w", a.StateFile, err)
	}

	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read state file %s: %w", a.StateFile, err)
	}
	pool := &portPool{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, pool); err != nil {
			return fmt.Errorf("decoding state file %s: %w", a.StateFile, err)
		}
	}
	if pool.AcquiredPorts == nil {
		pool.AcquiredPorts = map[string][]uint32{}
	}

	changed, err := fn(pool)
	if err != nil || !changed {
		return err
	}

	out, err := json.Marshal(pool)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("truncate state file: %w", err)
	}
	if _, err := f.WriteAt(out, 0); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	return nil
}

// Allocate reserves n free ports for handle and returns them in ascending
// order.
func (a *portAllocator) Allocate(handle string, n int) ([]uint32, error) {
	var got []uint32
	err := a.withPool(func(p *portPool) (bool, error) {
		used := map[uint32]bool{}
		for _, ports := range p.AcquiredPorts {
			for _, port := range ports {
				used[port] = true
			}
		}
		for i := uint32(0); i < a.Total && len(got) < n; i++ {
			if port := a.Start + i; !used[port] {
				got = append(got, port)
			}
		}
		if len(got) < n {
			return false, errors.New("port pool exhausted")
		}
		p.AcquiredPorts[handle] = append(p.AcquiredPorts[handle], got...)
		return true, nil
	})
	return got, err
}

// Owned returns the ports currently held by handle, ascending.
func (a *portAllocator) Owned(handle string) ([]uint32, error) {
	var ports []uint32
	err := a.withPool(func(p *portPool) (bool, error) {
		ports = append(ports, p.AcquiredPorts[handle]...)
		return false, nil
	})
	sort.Slice(ports, func(i, j int) bool { return ports[i] < ports[j] })
	return ports, err
}

// ReleaseAll frees every port held by handle. Releasing a handle that
// holds nothing is not an error.
func (a *portAllocator) ReleaseAll(handle string) error {
	return a.withPool(func(p *portPool) (bool, error) {
		if _, ok := p.AcquiredPorts[handle]; !ok {
			return false, nil
		}
		delete(p.AcquiredPorts, handle)
		return true, nil
	})
}
