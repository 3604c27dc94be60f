# Palisade build, test and benchmark entry points. `make test` is what CI runs.
GO        ?= go
TOOLS     := $(CURDIR)/.tools
MODULE    := github.com/palisade-sec/palisade
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X $(MODULE)/internal/version.version=$(VERSION) -X $(MODULE)/internal/version.commit=$(COMMIT)
FUZZTIME  ?= 30s
BENCHTIME ?= 1s

# Linters, pinned; installed through the Go module proxy into .tools/.
STATICCHECK_VERSION := v0.8.2
GOVULNCHECK_VERSION := v1.9.0
# The OCI distribution-spec conformance suite, run against a live server by
# internal/app's TestOCIConformance.
CONFORMANCE_VERSION := v0.0.0-20260831232431-97274622c111
# The oras CLI, for the interoperability test of palisade push and pull.
ORAS_VERSION := v1.3.6

.PHONY: all build build-kms test lint vet staticcheck fmt-check bench fuzz tools clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/palisade ./cmd/palisade

# The same binary with the AWS, GCP, Azure and HashiCorp Vault KMS providers
# for 'palisade sign --kms' and the server's --kek.
build-kms:
	$(GO) build -trimpath -tags kms -ldflags '$(LDFLAGS)' -o bin/palisade ./cmd/palisade

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(TOOLS)/govulncheck:
	GOBIN=$(TOOLS) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

$(TOOLS)/conformance:
	GOBIN=$(TOOLS) $(GO) install github.com/opencontainers/distribution-spec/conformance@$(CONFORMANCE_VERSION)

$(TOOLS)/oras:
	GOBIN=$(TOOLS) $(GO) install oras.land/oras/cmd/oras@$(ORAS_VERSION)

# A real OpenID provider for the single sign-on tests: the zitadel/oidc
# example provider (v3.52.0, pinned in its own module's go.mod) with a
# device-grant client, on loopback only (internal/testutil/oidctest/server).
OIDC_SERVER_SRC := internal/testutil/oidctest/server
$(TOOLS)/oidc/server: $(OIDC_SERVER_SRC)/go.mod $(OIDC_SERVER_SRC)/go.sum $(OIDC_SERVER_SRC)/main.go
	GOBIN=$(TOOLS)/oidc $(GO) -C $(OIDC_SERVER_SRC) install .

tools: $(TOOLS)/staticcheck $(TOOLS)/conformance $(TOOLS)/oras $(TOOLS)/oidc/server

# The kms build tag adds the cloud KMS providers to internal/sign and
# internal/crypto; vet them too so that the tagged build keeps compiling.
vet:
	$(GO) vet ./...
	$(GO) -C $(OIDC_SERVER_SRC) vet .
	$(GO) vet -tags kms ./internal/sign/... ./internal/crypto/...

staticcheck: $(TOOLS)/staticcheck
	$(TOOLS)/staticcheck ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# go vet, staticcheck and the whole test suite with the race detector
# (fuzz seed corpora run as ordinary tests).
# The store and registry tests also run against a throwaway PostgreSQL and
# the blob tests against a throwaway S3-compatible server (versitygw,
# installed pinned into .tools/ through the Go module proxy), both on
# loopback (scripts/postgres.sh, scripts/s3.sh); when either cannot be had
# its tests skip unless PALISADE_TEST_REQUIRE lists it (CI does). The OCI
# conformance suite runs against a live server on SQLite, PostgreSQL, and
# PostgreSQL with S3.
test: fmt-check vet staticcheck $(TOOLS)/conformance $(TOOLS)/oras $(TOOLS)/oidc/server
	@set -e; pgdir=; s3dir=; \
	trap 'if [ -n "$$pgdir" ]; then ./scripts/postgres.sh stop "$$pgdir"; fi; if [ -n "$$s3dir" ]; then ./scripts/s3.sh stop "$$s3dir"; fi' EXIT; \
	pgenv=$$(./scripts/postgres.sh start) && rc=0 || rc=$$?; \
	if [ $$rc = 0 ]; then eval "$$pgenv"; pgdir=$$PALISADE_TEST_POSTGRES_DIR; \
	elif [ $$rc != 2 ]; then exit $$rc; fi; \
	s3env=$$(./scripts/s3.sh start) && rc=0 || rc=$$?; \
	if [ $$rc = 0 ]; then eval "$$s3env"; s3dir=$$PALISADE_TEST_S3_DIR; \
	elif [ $$rc != 2 ]; then exit $$rc; fi; \
	echo "$(GO) test -race -shuffle=on ./..."; \
	$(GO) test -race -shuffle=on ./...

# Everything in test, plus govulncheck (needs its online vulnerability database).
lint: test $(TOOLS)/govulncheck
	$(TOOLS)/govulncheck ./...

# Go benchmarks of every hot path; see docs/benchmarks.md and bench/ for the
# side-by-side comparisons.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# Runs every fuzz target for FUZZTIME each.
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

clean:
	rm -rf bin .tools
