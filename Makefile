# The two commands: `make run` and `make test`. Everything they need is
# built or installed here, so both work on a fresh clone.
SHELL := bash
GO ?= go
TEMPORAL_CLI_VERSION := v1.5.1
# A temporal CLI on PATH is used as is; otherwise one is built into bin/ once.
TEMPORAL_CLI := $(or $(shell command -v temporal 2>/dev/null),$(CURDIR)/bin/temporal)

REDOCLY_VERSION := 2.77.0
REDOCLY := $(CURDIR)/.data/tools/node_modules/.bin/redocly
AXE_VERSION := 4.14.1
AXE_CORE := $(CURDIR)/.data/tools/node_modules/axe-core/axe.min.js
# The portals' tests drive a headless Chromium; one on PATH is used as is.
CHROMIUM := $(or $(shell command -v chromium chromium-browser 2>/dev/null | head -1),/usr/bin/chromium)

.PHONY: run test vet unit build bench clean-data lint-openapi
.DEFAULT_GOAL := build

build:
	$(GO) build -o bin/procuration ./cmd/procuration

$(CURDIR)/bin/temporal:
	@echo "==> building the Temporal CLI $(TEMPORAL_CLI_VERSION) into bin/ (first time only: several minutes on 2 cores)"
	GOBIN=$(CURDIR)/bin $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

run: build $(TEMPORAL_CLI)
	TEMPORAL_CLI=$(TEMPORAL_CLI) deploy/dev/run.sh

vet:
	$(GO) vet ./...

# Integration tests start their own Temporal dev server, PostgreSQL cluster
# and SMTP server on free ports; under `make test` a missing one fails them.
test: vet lint-openapi $(TEMPORAL_CLI) $(AXE_CORE) $(CHROMIUM)
	TEMPORAL_CLI=$(TEMPORAL_CLI) CHROMIUM=$(CHROMIUM) AXE_CORE=$(AXE_CORE) PROCURATION_INTEGRATION=required \
		$(GO) test -count=1 -timeout 20m ./...
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./...
	@echo "==> screenshots of the pages the tests visited: .data/screenshots/"

$(AXE_CORE):
	@echo "==> installing axe-core $(AXE_VERSION) from npm into .data/tools (first time only)"
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (apt-get install nodejs npm)" >&2; exit 1; }
	mkdir -p .data/tools && npm install --silent --no-audit --no-fund --prefix .data/tools axe-core@$(AXE_VERSION)

# Chromium comes from the distribution (Debian or Ubuntu), with sudo when
# not root.
$(CHROMIUM):
	@echo "==> installing Chromium with apt-get (first time only)"
	@command -v apt-get >/dev/null || { echo "no Chromium: install it, or set CHROMIUM=/path/to/chromium" >&2; exit 1; }
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y --no-install-recommends chromium || \
		{ $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update && $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y --no-install-recommends chromium; }

$(REDOCLY):
	@echo "==> installing @redocly/cli $(REDOCLY_VERSION) from npm into .data/tools (first time only)"
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (apt-get install nodejs npm)" >&2; exit 1; }
	mkdir -p .data/tools && npm install --silent --no-audit --no-fund --prefix .data/tools @redocly/cli@$(REDOCLY_VERSION)

# The OpenAPI document passes redocly's recommended rules with no error.
lint-openapi: build $(REDOCLY)
	bin/procuration openapi > .data/openapi.json
	$(REDOCLY) lint --extends recommended --format stylish .data/openapi.json

unit:
	$(GO) test -short ./...

bench: build
	bin/procuration bench lifecycle --dossiers 200

clean-data:
	rm -rf .data

# The fault harness: its own stack, ~1,000 dossiers and matches in flight,
# processes killed and dependencies stopped; some 15 minutes, not in `make test`.
.PHONY: bench-faults
bench-faults: build $(TEMPORAL_CLI)
	TEMPORAL_CLI=$(TEMPORAL_CLI) bin/procuration bench faults

# Histories of every workflow's main paths, recorded from a dev server with
# this release's code, for the replay test of the releases after it
# (workflows/testdata/histories/<RELEASE>/); run at release time, commit.
RELEASE ?= $(shell git describe --tags --always 2>/dev/null)
.PHONY: record-histories
record-histories: $(TEMPORAL_CLI)
	@test -n "$(RELEASE)" || { echo "RELEASE=<name> expected: make record-histories RELEASE=2027-03" >&2; exit 1; }
	TEMPORAL_CLI=$(TEMPORAL_CLI) PROCURATION_INTEGRATION=required \
		$(GO) test -count=1 -run '^TestRecordHistories$$' ./workflows -record testdata/histories/$(RELEASE)

# `make run-cluster`: the production shape. The Temporal server of the
# version the CLI embeds, its schema tool and the Web UI's server, built
# from the module proxy into bin/ once (go install names them server and sql,
# hence the folder of their own).
TEMPORAL_SERVER_VERSION := v1.29.1
TEMPORAL_UI_SERVER_VERSION := v2.42.1
$(CURDIR)/bin/temporal-server $(CURDIR)/bin/temporal-sql-tool &:
	@echo "==> building the Temporal server $(TEMPORAL_SERVER_VERSION) and its SQL schema tool into bin/ (first time only: several minutes on 2 cores)"
	GOBIN=$(CURDIR)/.data/gobin/temporal-server $(GO) install go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION) go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)
	mkdir -p bin && mv .data/gobin/temporal-server/server bin/temporal-server && mv .data/gobin/temporal-server/sql bin/temporal-sql-tool
$(CURDIR)/bin/temporal-ui-server:
	@echo "==> building the Temporal Web UI server $(TEMPORAL_UI_SERVER_VERSION) into bin/ (first time only)"
	GOBIN=$(CURDIR)/.data/gobin/temporal-ui-server $(GO) install github.com/temporalio/ui-server/v2/cmd/server@$(TEMPORAL_UI_SERVER_VERSION)
	mkdir -p bin && mv .data/gobin/temporal-ui-server/server bin/temporal-ui-server

.PHONY: run-cluster
run-cluster: build $(TEMPORAL_CLI) $(CURDIR)/bin/temporal-server $(CURDIR)/bin/temporal-sql-tool $(CURDIR)/bin/temporal-ui-server
	TEMPORAL_CLI=$(TEMPORAL_CLI) TEMPORAL_SERVER=$(CURDIR)/bin/temporal-server TEMPORAL_SQL_TOOL=$(CURDIR)/bin/temporal-sql-tool \
		TEMPORAL_UI_SERVER=$(CURDIR)/bin/temporal-ui-server \
		TEMPORAL_SCHEMA=$$($(GO) mod download -json go.temporal.io/server@$(TEMPORAL_SERVER_VERSION) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/schema/postgresql/v12 \
		deploy/cluster/run.sh

# The OCI image, without a Docker daemon nor a base image: an OCI layout in
# .data/image and a tarball for `docker load` / `podman load`.
.PHONY: image
image:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/procuration-static ./cmd/procuration
	cd deploy && SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) $(GO) run ./cmd/image --binary ../bin/procuration-static \
		--out ../.data/image --tar ../.data/procuration-image.tar --version $$(git describe --always --dirty) --revision $$(git rev-parse HEAD)
