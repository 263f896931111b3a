# pargate - make help lists the targets.

.DEFAULT_GOAL := help
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

# Lambda runs the functions on Graviton (template.yaml: Architectures [arm64]).
GOARCH ?= arm64
# `make deploy ENV=prod` picks a samconfig.toml environment.
ENV ?= default

# Function name : directory under functions/. The name + "Function" is the LogicalId in
# template.yaml, which is what `sam build` asks for (make build-ParFunction).
FUNCTIONS := Par:par Authorize:authorize Token:token Discovery:discovery KeyRotation:rotate-keys
FUNCTION_DIRS := $(foreach f,$(FUNCTIONS),$(lastword $(subst :, ,$(f))))
fn_dir = $(patsubst $(1):%,%,$(filter $(1):%,$(FUNCTIONS)))

# Static, stripped, reproducible (-trimpath) binaries named bootstrap for provided.al2023;
# lambda.norpc drops the RPC mode that custom runtimes never use.
GO_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) go build -trimpath -ldflags='-s -w' -tags lambda.norpc

# staticcheck at a fixed version, fetched through the Go module proxy on first use (no
# install step; `go run pkg@version` builds it into the module cache).
STATICCHECK_MODULE := honnef.co/go/tools/cmd/staticcheck@v0.8.2
STATICCHECK ?= go run $(STATICCHECK_MODULE)

# Settings of the local server (infra/localapi), handed to it only when set, so that its
# own defaults apply otherwise: ADDR (127.0.0.1:8080), ISSUER (http://$ADDR), SEED_FILE
# (infra/seed.json), STORE (memory, or dynamodb: DYNAMODB_ENDPOINT, else a moto_server it
# starts), KEYS_FILE (signing keys; default .local/keys-$KEY_ALG.json), KEY_ALG,
# LOCAL_STATE_DIR (.local: the kept key and seed password hashes; - for none).
# `make run STORE=dynamodb` and `STORE=dynamodb make run` both work.
LOCAL_ENV := ADDR ISSUER SEED_FILE STORE DYNAMODB_ENDPOINT KEYS_FILE KEY_ALG LOCAL_STATE_DIR \
	TLS TLS_DIR TLS_CERT_FILE TLS_KEY_FILE MTLS_CA_FILE MTLS_BASE_URL ALLOW_HTTP_ISSUER

.PHONY: help run run-federation invoke test bench bench-flow fuzz build lint lambda-coldstart deploy clean print-staticcheck-module sam-local-setup sam-local-stop FORCE

help: ## Show the targets and the variables they read
	@echo 'Usage: make <target> [VAR=value ...]'
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_%\/-]+:.*## / { sub(/%/, "<Name>", $$1); printf "  %-24s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo 'Variables:'
	@echo '  $(LOCAL_ENV)'
	@echo '                                settings of the local server for "make run"'
	@echo '  GOARCH                        Lambda architecture for build (default arm64)'
	@echo '  FN, EVENT                     function and event file for invoke'
	@echo '  FUZZTIME, FUZZMINIMIZETIME    fuzz: time per target (30s), per input minimization (2s)'
	@echo '  ENV                           samconfig.toml environment for deploy (default, dev, prod)'
	@echo '  ARTIFACTS_DIR                 output directory of build-<Name>Function (set by sam build)'

run: ## Serve every route of template.yaml locally on 127.0.0.1:8080 (in-memory store, seeded)
	$(strip $(foreach v,$(LOCAL_ENV),$(if $($(v)),$(v)='$($(v))'))) go run ./infra/localapi

# Brokered login end to end on this machine (issue 13; README "Sign in with your
# existing identity provider"): a second pargate at localhost:9090 is the upstream
# OpenID Provider (infra/federation/upstream.json: the broker's client, user alice),
# and the broker on 127.0.0.1:8080 (infra/federation/broker.json: demo-client and the
# identity provider "upstream") offers "Continue with Upstream pargate" on its login
# page, pushing its own request upstream with PAR. Each keeps its own state folder.
# Ctrl-C stops both.
.PHONY: run-federation
# The upstream's issuer is localhost, the broker's 127.0.0.1: cookies are per host, not
# per port, and two pargates on one host would overwrite each other's transaction and
# session cookies (they have the same names), as two real sites never do.
run-federation: ## Two local pargates: the broker on 127.0.0.1:8080 signs users in through an upstream on localhost:9090
	@mkdir -p .local/bin && go build -o .local/bin/localapi ./infra/localapi
	@ADDR=127.0.0.1:9090 ISSUER=http://localhost:9090 SEED_FILE=infra/federation/upstream.json LOCAL_STATE_DIR=.local/federation-upstream .local/bin/localapi & up=$$!; \
	trap 'kill $$up 2>/dev/null' EXIT INT TERM; \
	ADDR=127.0.0.1:8080 SEED_FILE=infra/federation/broker.json LOCAL_STATE_DIR=.local/federation-broker .local/bin/localapi

# The real bootstrap (built for this host) under a local Lambda Runtime API
# (infra/lambdaemu), against moto_server with the seeded table and the secrets: what
# `sam local invoke -e` does, without Docker. Prints the response; logs go to stderr.
invoke: ## Invoke a function's bootstrap locally: make invoke FN=par EVENT=events/par.json
	@test -n '$(FN)' && test -n '$(EVENT)' || { echo >&2 'usage: make invoke FN=<par|authorize|token|discovery> EVENT=events/<name>.json'; exit 2; }
	GOOS= GOARCH= go run ./infra/lambdaemu/cmd/invoke -fn '$(FN)' -event '$(EVENT)'

# The end-to-end suites (infra/localapi's Go tests, infra/browser) run on both targets
# PARGATE_TARGET chooses: local (make run, the default, with the rest of go test) and
# lambda (make run-lambda: the real bootstraps behind template.yaml's HTTP API).
test: deps lint ## Set up (make deps), then run all checks and tests, in order (what CI runs); the end-to-end suites on make run and make run-lambda
	go test -count=1 ./...
	PARGATE_TARGET=lambda go test -count=1 ./infra/localapi
	@# Browser end-to-end tests: headless /usr/bin/chromium, npm packages of infra/browser (see its README).
	cd infra/browser && npm test
	cd infra/browser && PARGATE_TARGET=lambda npm test

# Not part of test or CI. BENCH_FLAGS go to the comparison (go run ./infra/bench/loadgen
# compare -h), e.g. BENCH_FLAGS='-rounds 3 -skip-dynamo'.
lambda-coldstart: ## Per function: bootstrap size (amd64, arm64), init, exec to first response, peak RSS on the Lambda emulator, next to the floor's exec to first 201
	go test -run='^$$' -bench=ColdStart -benchtime=10x ./infra/lambdaemu/stack/

bench: ## Go benchmarks, then pargate vs node-oidc-provider vs a stdlib floor on 127.0.0.1: writes infra/bench/REPORT.md (~10 min)
	@mkdir -p bin
	go test -run='^$$' -bench=. -benchmem -benchtime=500ms ./... | tee bin/gobench.txt
	test -d infra/bench/node/node_modules || (cd infra/bench/node && npm ci --no-audit --no-fund)
	go run ./infra/bench/loadgen compare -gobench bin/gobench.txt $(BENCH_FLAGS)

# The whole-flow part of make bench alone; BENCH_FLAGS as for bench (e.g.
# BENCH_FLAGS='-flow-rounds 1 -flow-c 8 -skip-dynamo').
bench-flow: ## The whole flow step by step (push to refresh): pargate in-memory and on moto vs node-oidc-provider, next to argon2id's BenchmarkPasswordCheck: writes bin/REPORT-flow.md (a few minutes)
	@mkdir -p bin
	GOOS= GOARCH= go test -run='^$$' -bench=PasswordCheck -cpu 1 -count 3 ./infra/cost | tee bin/gobench-flow.txt
	test -d infra/bench/node/node_modules || (cd infra/bench/node && npm ci --no-audit --no-fund)
	go run ./infra/bench/loadgen compare -phases flow -gobench bin/gobench-flow.txt -out bin/REPORT-flow.md -json bin/bench-flow.json $(BENCH_FLAGS)

# Every fuzz target (func FuzzXxx in a *_test.go), one `go test -fuzz` run each, as -fuzz
# takes one target per package. make test already runs their seeds (f.Add and the
# checked-in testdata/fuzz/FuzzXxx/*); an input that fails here is written to the
# package's testdata/fuzz/FuzzXxx/, to be checked in with the fix.
FUZZTIME ?= 30s
# Minimizing a new interesting input may take up to -fuzzminimizetime (60 s by default),
# during which a worker runs nothing else: with the large seeds that stalls a 30 s run.
FUZZMINIMIZETIME ?= 2s

fuzz: ## Run every fuzz target for FUZZTIME each (default 30s): no crash, no 5xx, the spec's properties
	@dirs="$$(grep -rl --include='*_test.go' '^func Fuzz' pkg infra functions | xargs -n1 dirname | sort -u)"; \
	for dir in $$dirs; do \
	  for target in $$(go test -list '^Fuzz' "./$$dir" | grep '^Fuzz'); do \
	    echo "== ./$$dir $$target ($(FUZZTIME))"; \
	    go test -run='^$$' -fuzz="^$$target\$$" -fuzztime='$(FUZZTIME)' -fuzzminimizetime='$(FUZZMINIMIZETIME)' "./$$dir"; \
	  done; \
	done

build: $(FUNCTION_DIRS:%=bin/%/bootstrap) ## Build every function for Lambda (linux/$GOARCH) into bin/<name>/bootstrap

# Go decides what is stale; FORCE only makes make ask it every time.
bin/%/bootstrap: FORCE
	$(GO_BUILD) -o $@ ./functions/$*

# BuildMethod: makefile - sam build runs `make build-<LogicalId>` with ARTIFACTS_DIR set.
# The bootstrap is always arm64 (template.yaml: Architectures [arm64]): an inherited
# GOARCH=amd64 in the environment or on the command line must not produce a binary
# Lambda cannot run. `sam build --use-container` runs this in an image that sets
# GOPROXY=direct and has no git, so the module proxy and flags are set here, from make
# variables (BUILD_GOPROXY, BUILD_GOFLAGS) rather than the inherited environment.
BUILD_GOPROXY ?= https://proxy.golang.org,direct
BUILD_GOFLAGS ?= -mod=readonly
build-%Function: override GOARCH = arm64
build-%Function: ## Build one function into $ARTIFACTS_DIR/bootstrap (sam build calls this)
	@test -n "$(ARTIFACTS_DIR)" || { echo >&2 '$@: ARTIFACTS_DIR is not set (sam build sets it)'; exit 2; }
	$(if $(call fn_dir,$*),,$(error $@: no function $*Function; known: $(FUNCTIONS)))
	GOPROXY='$(BUILD_GOPROXY)' GOFLAGS='$(BUILD_GOFLAGS)' $(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/$(call fn_dir,$*)

# `sam local` against moto_server: the functions run in Docker, so moto listens on
# 0.0.0.0 and sam local runs with --docker-network host (README "Deploy"). moto keeps
# running in the background (its pid in $(SAM_LOCAL_DIR)/moto.pid) until
# `make sam-local-stop`; the env-vars file names the table and secrets made in it.
SAM_LOCAL_DIR := infra/sam-local
MOTO_PORT ?= 5000
sam-local-setup: ## Start moto_server on 0.0.0.0:$MOTO_PORT, create and seed the table and secrets, write infra/sam-local/env.local.json
	@if [ -f $(SAM_LOCAL_DIR)/moto.pid ] && kill -0 "$$(cat $(SAM_LOCAL_DIR)/moto.pid)" 2>/dev/null; then \
	  echo "moto_server already running (pid $$(cat $(SAM_LOCAL_DIR)/moto.pid))"; \
	else \
	  nohup moto_server -H 0.0.0.0 -p $(MOTO_PORT) >$(SAM_LOCAL_DIR)/moto.log 2>&1 & echo $$! >$(SAM_LOCAL_DIR)/moto.pid; \
	  for i in $$(seq 50); do curl -fs -o /dev/null http://127.0.0.1:$(MOTO_PORT)/moto-api/ && break; sleep 0.2; done; \
	fi
	go run ./infra/sam-local/setup -endpoint http://127.0.0.1:$(MOTO_PORT) $(if $(SAM_LOCAL_ENDPOINT),-env-endpoint $(SAM_LOCAL_ENDPOINT)) -out $(SAM_LOCAL_DIR)/env.local.json

sam-local-stop: ## Stop the moto_server that sam-local-setup started
	@if [ -f $(SAM_LOCAL_DIR)/moto.pid ]; then kill "$$(cat $(SAM_LOCAL_DIR)/moto.pid)" 2>/dev/null || true; rm -f $(SAM_LOCAL_DIR)/moto.pid; fi

lint: ## Check formatting (gofmt), go vet, staticcheck, template.yaml (cfn-lint) and events/*.json
	@unformatted="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
	  if [ -n "$$unformatted" ]; then echo >&2 "gofmt needed:"; echo >&2 "$$unformatted"; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...
	cfn-lint template.yaml infra/waf/web-acl.yaml
	@for f in events/*.json; do python3 -m json.tool "$$f" >/dev/null || { echo >&2 "$$f: invalid JSON"; exit 1; }; done

deploy: ## Build with sam and deploy the samconfig.toml environment ENV (default, dev, prod)
	@command -v sam >/dev/null || { echo >&2 'deploy needs the AWS SAM CLI (sam) and AWS credentials'; exit 1; }
	sam build --config-env $(ENV)
	sam deploy --config-env $(ENV)

clean: ## Remove build output (bin/, .aws-sam/)
	rm -rf bin .aws-sam

# .ci/run fetches the pinned staticcheck before the tests.
print-staticcheck-module:
	@echo '$(STATICCHECK_MODULE)'

FORCE:

# ---- deps: what make test needs, installed when it can be ----
# Installs what a fresh machine lacks: Debian's chromium (/usr/bin/chromium, for the
# browser tests; playwright-core downloads no browser) with apt-get when running as root
# or with password-less sudo, the npm packages of infra/browser (npm ci, again when
# package-lock.json changed), the Go modules. What it cannot install (moto_server and
# cfn-lint come from PyPI; Go, Node and npm from the machine) it names, with how to get
# it, and fails.
.PHONY: deps
deps: ## Install what make test needs (chromium, npm packages, Go modules); name what it cannot
	@missing=0; \
	need() { command -v "$$1" >/dev/null || { echo >&2 "make deps: $$1 is missing: $$2"; missing=1; }; }; \
	need go 'install Go 1.26 (https://go.dev/dl/)'; \
	need node 'install Node 20.11+ with npm (https://nodejs.org/)'; \
	need npm 'install Node 20.11+ with npm (https://nodejs.org/)'; \
	need moto_server "pip install 'moto[server]>=5' (the local DynamoDB and Secrets Manager of the store tests)"; \
	need cfn-lint 'pip install cfn-lint (checks template.yaml)'; \
	exit $$missing
	@if [[ ! -x /usr/bin/chromium ]]; then \
	  if [[ "$$(id -u)" == 0 ]]; then sudo=(); \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); \
	  else echo >&2 "make deps: /usr/bin/chromium is missing (browser tests): run 'sudo apt-get install chromium', or make deps as root"; exit 1; fi; \
	  command -v apt-get >/dev/null || { echo >&2 "make deps: /usr/bin/chromium is missing and there is no apt-get: install Chromium at /usr/bin/chromium"; exit 1; }; \
	  echo "make deps: installing chromium with apt-get"; \
	  for attempt in 1 2 3; do \
	    "$${sudo[@]}" apt-get update -qq && \
	      "$${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium && break; \
	    [[ $$attempt == 3 ]] && { echo >&2 "make deps: apt-get install chromium failed 3 times"; exit 1; }; \
	    echo >&2 "make deps: apt-get failed (attempt $$attempt of 3; a mirror may be busy), retrying in 15 s"; sleep 15; \
	  done; \
	fi
	@# npm ci writes node_modules/.package-lock.json: a lock file newer than it means new packages.
	@if [[ ! -f infra/browser/node_modules/.package-lock.json || infra/browser/package-lock.json -nt infra/browser/node_modules/.package-lock.json ]]; then \
	  echo "make deps: npm ci in infra/browser"; \
	  cd infra/browser && npm ci --no-audit --no-fund; \
	fi
	go mod download

# ---- run-lambda: the real bootstraps behind a local API Gateway ----
# `sam local start-api` without Docker (infra/apigw): the routes of template.yaml on ADDR
# (default 127.0.0.1:3000), each function's bootstrap built for this host under the
# Lambda Runtime API emulator (infra/lambdaemu) with template.yaml's environment, on
# moto_server. Reads ADDR ISSUER SEED_FILE DYNAMODB_ENDPOINT AWS_ENDPOINT_URL
# LAMBDA_CONCURRENCY PARAMETER_OVERRIDES and any variable template.yaml gives the
# functions (PROFILE, REQUIRE_PAR, ...), which then overrides the template's value.
RUN_LAMBDA_ENV := ADDR ISSUER SEED_FILE DYNAMODB_ENDPOINT AWS_ENDPOINT_URL LAMBDA_CONCURRENCY PARAMETER_OVERRIDES
.PHONY: run-lambda
run-lambda: ## Serve template.yaml's HTTP API on 127.0.0.1:3000 in front of the real bootstraps (sam local start-api without Docker)
	$(strip $(foreach v,$(RUN_LAMBDA_ENV),$(if $($(v)),$(v)='$($(v))'))) GOOS= GOARCH= go run ./infra/apigw/cmd/run-lambda

# ---- cost: the cost model (infra/cost, docs/cost.md) ----
# cost-measure takes the measurements again (needs moto_server; about a minute): each
# step's CPU, duration, log and response bytes in the Lambda emulator, the argon2id
# check on one core with x/crypto's amd64 assembly and with its generic code (what
# arm64 runs), the DynamoDB calls and item sizes of a flow, and the signature check
# the FAPI profile adds. make cost renders docs/cost.md from them (fast; go test
# ./infra/cost checks the checked-in documents are what the inputs give).
COST_INPUTS := infra/cost/inputs
.PHONY: cost-measure
cost-measure: ## Measure what the cost model starts from into infra/cost/inputs (Lambda emulator, argon2id on one core, DynamoDB calls)
	GOOS= GOARCH= go test -run='^$$' -bench=FlowCost -benchtime=40x ./infra/lambdaemu/stack -flowcost.out=$(CURDIR)/$(COST_INPUTS)/emulator.json
	GOOS= GOARCH= go test -run='^$$' -bench=PasswordCheck -cpu 1 -count 5 ./infra/cost > $(COST_INPUTS)/argon2-asm.txt
	GOOS= GOARCH= go test -tags purego -run='^$$' -bench=PasswordCheck -cpu 1 -count 5 ./infra/cost > $(COST_INPUTS)/argon2-generic.txt
	GOOS= GOARCH= go test -count=1 -run='^TestDynamoDBCallsPerFlow$$' ./infra/bench/flow -calls.out=$(CURDIR)/$(COST_INPUTS)/dynamodb.json
	GOOS= GOARCH= go test -run='^$$' -bench=JWSVerify -cpu 1 -count 5 ./infra/cost > $(COST_INPUTS)/jws.txt
.PHONY: cost
cost: ## Render docs/cost.md and docs/cost.svg (dollars per million authorizations, by line item) from infra/cost/inputs
	GOOS= GOARCH= go run ./infra/cost/cmd/cost -inputs $(COST_INPUTS) -md docs/cost.md -svg docs/cost.svg
