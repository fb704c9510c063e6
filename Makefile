# posthub — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/posthub
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/posthub/posthub/internal/version.Version=$(VERSION)
# The whole suite must stay well under 20 minutes on a cold 2-core machine.
TEST_TIMEOUT ?= 15m

.PHONY: help run build test fuzz vet fmt tzdata bench drill drill-failover bench-system clean

help: ## Show the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

run: build ## Run the whole hub on a local PostgreSQL it starts itself (posthub dev)
	./$(BIN) dev $(ARGS)

build: ## Build bin/posthub
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/posthub

test: ## Run every test with the race detector against a throwaway PostgreSQL
	@test -x /usr/bin/chromium || { echo "make test: the web UI's browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install chromium (.ci/run installs it)"; exit 1; }
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

# make fuzz: the long run of TestAPIFuzz (every operation of /openapi.json with bad
# input as every role; plain go test runs 8000 cases), then go test -fuzz on the JSON
# body decoder (minimizing each new input for at most 5 s, not the default minute that
# would take most of a short run).
FUZZ_CASES ?= 100000
FUZZ_SEED ?= 16
FUZZ_TIME ?= 60s
fuzz: ## Long API fuzz: FUZZ_CASES cases of TestAPIFuzz (seed FUZZ_SEED), then FuzzDecodeBody for FUZZ_TIME
	POSTHUB_FUZZ_CASES=$(FUZZ_CASES) POSTHUB_FUZZ_SEED=$(FUZZ_SEED) $(GO) test -race -timeout 0 -count=1 -v -run '^TestAPIFuzz$$' ./internal/httpapi/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBody$$' -fuzztime $(FUZZ_TIME) -fuzzminimizetime 5s ./internal/httpapi/

vet: ## go vet and gofmt check
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }

fmt: ## Format the code
	gofmt -w .

bench: ## Run the benchmarks (figures go to docs/BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchtime 400x ./internal/...

drill: ## Fault drill: kill -9 posthub 5 times and restart PostgreSQL under load, then check the invariants (~7 min)
	$(GO) run ./cmd/posthub-drill faults $(ARGS)

drill-failover: ## Failover drill: kill -9 the PostgreSQL primary under load, promote its standby; async then sync replication (~4 min)
	$(GO) run ./cmd/posthub-drill failover $(ARGS)

bench-system: ## System benchmark: HTTP writes vs pgbench, email pipeline vs 2 × booking peak, reminder lateness, RSS (docs/BENCHMARKS.md)
	$(GO) run ./cmd/posthub-drill bench $(ARGS)

tzdata: ## Refresh the embedded IANA tz database (internal/calendar/tzdata) from the newest Debian tzdata package
	./scripts/update-tzdata.sh

clean: ## Remove build output (not the dev data in .posthub/)
	rm -rf bin
