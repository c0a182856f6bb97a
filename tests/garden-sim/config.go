package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

// loadNetworkList finds the CNI configuration the way
// garden-external-networker does: walk dir (recursively, in lexical order);
// the first *.conflist wins, otherwise the first *.conf is upgraded to a
// one-plugin list.
func loadNetworkList(dir string) (*libcni.NetworkConfigList, error) {
	var lists, confs []string
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
		case strings.HasSuffix(path, ".conflist"):
			lists = append(lists, path)
		case strings.HasSuffix(path, ".conf"):
			confs = append(confs, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("error walking config directory: %w", err)
	}

	if len(lists) > 0 {
		if len(lists) > 1 {
			fmt.Fprintf(os.Stderr, "garden-sim: only the first CNI conflist (%s) is used\n", lists[0])
		}
		list, err := libcni.ConfListFromFile(lists[0])
		if err != nil {
			return nil, fmt.Errorf("unable to load config from %s: %w", lists[0], err)
		}
		return list, nil
	}

	if len(confs) > 0 {
		conf, err := libcni.ConfFromFile(confs[0])
		if err != nil {
			return nil, fmt.Errorf("unable to load config from %s: %w", confs[0], err)
		}
		list, err := libcni.ConfListFromConf(conf)
		if err != nil {
			return nil, fmt.Errorf("unable to convert %s to a list: %w", confs[0], err)
		}
		return list, nil
	}

	return nil, fmt.Errorf("no CNI configuration (*.conflist or *.conf) in %s", dir)
}

// injectGardenKeys adds Garden's data to every plugin of list as the real
// networker does: top-level "metadata" (the container's properties, only
// when there are any) and "runtimeConfig" holding "portMappings" (Garden's
// netin entries, host ports already allocated) and "netOutRules". An
// existing "runtimeConfig" key in a plugin's config is replaced.
func injectGardenKeys(list *libcni.NetworkConfigList, in *upInputs) error {
	extra := map[string]interface{}{
		"runtimeConfig": map[string]interface{}{
			"portMappings": in.NetIn,
			"netOutRules":  in.NetOut,
		},
	}
	if len(in.Properties) > 0 {
		extra["metadata"] = in.Properties
	}

	for i, plugin := range list.Plugins {
		injected, err := libcni.InjectConf(plugin, extra)
		if err != nil {
			return fmt.Errorf("adding extra data to CNI config: %w", err)
		}
		list.Plugins[i] = injected
	}
	return nil
}
