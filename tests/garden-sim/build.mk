# tests/garden-sim: a Go test driver that calls a CNI plugin the way Cloud
# Foundry's garden-external-networker does, through Debian's libcni
# (golang-github-appc-cni-dev). Built offline in GOPATH mode: no modules,
# nothing downloaded. Included from the top-level Makefile, which defines
# TOP, OUT and BIN (BIN may be relative to TOP or absolute).
GARDEN_SIM_SRCS := $(wildcard $(TOP)/tests/garden-sim/*.go)
# The first GOPATH entry is where "go get" would write; keep it under build/
# so /usr/share/gocode stays read-only.
GARDEN_SIM_GOENV := GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 \
                    GOPATH=$(TOP)/build/gopath:/usr/share/gocode \
                    GOCACHE=$(TOP)/build/go-cache

$(BIN)/garden-sim: $(GARDEN_SIM_SRCS)
	@mkdir -p $(dir $@) $(TOP)/build/gopath
	cd $(TOP) && $(GARDEN_SIM_GOENV) go build -o $(abspath $@) ./tests/garden-sim
