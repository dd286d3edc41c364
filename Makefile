# The two commands: `make run` and `make test`. Everything they need is
# built or installed here, so both work on a fresh clone.
SHELL := bash
GO ?= go
TEMPORAL_CLI_VERSION := v1.5.1
# A temporal CLI on PATH is used as is; otherwise one is built into bin/ once.
TEMPORAL_CLI := $(or $(shell command -v temporal 2>/dev/null),$(CURDIR)/bin/temporal)

.PHONY: run test vet unit build bench clean-data
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
test: vet $(TEMPORAL_CLI)
	TEMPORAL_CLI=$(TEMPORAL_CLI) PROCURATION_INTEGRATION=required $(GO) test -count=1 -timeout 20m ./...

unit:
	$(GO) test -short ./...

bench: build
	bin/procuration bench lifecycle --dossiers 200

clean-data:
	rm -rf .data
