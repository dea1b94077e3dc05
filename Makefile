# redirlab. `make test` is what CI runs (with go vet), see .ci/run.
GO ?= go
PKGS := ./...

.PHONY: build test bench vet run sim fuzz clean gate baselines pgo

build:
	$(GO) build -o redirlab ./cmd/redirlab

# One package at a time (-p 1): the real-server tests measure latency and
# must not share the two cores with a simulator's theory checks. Then the
# concurrent packages again under the race detector; of the report's
# tests only the one that writes concurrently (the others draw the same
# figures, and under the detector take minutes).
RACE_PKGS := ./server/ ./redirect/ ./loadgen/... ./results/ ./results/internal/... ./results/plots/ ./results/stats/ ./runner/ ./scenarios/ ./policy/ ./dispatch/ ./internal/...

test:
	$(GO) test -p 1 -count=1 -timeout 9m $(PKGS)
	$(GO) test -race -short -count=1 -timeout 5m $(RACE_PKGS)
	$(GO) test -race -short -count=1 -timeout 5m -run 'TestWriteConcurrentSameAsSequential' ./results/report/

vet:
	$(GO) vet $(PKGS)

# Speed figures: the simulator against the plain typed-heap reference
# (../shared/reference/baredes), then every hot path's go test benchmark
# (the decision per condition and target, the server model, the
# simulator, the server's page and redirect paths, the generator's
# per-request cost, aggregation per record) into bench.txt, which
# benchstat reads: `benchstat old.txt bench.txt`.
BENCH_PKGS := ./policy/ ./model/ ./sim/ ./server/ ./loadgen/ ./results/ ./dispatch/
BENCH_COUNT ?= 6

# cmd/redirlab/default.pgo is a CPU profile of the simulator's benchmark;
# go build uses it for profile-guided optimisation of the redirlab command
# (the hot simulator calls get inlined). It changes no output. Rewrite it
# after large changes to the simulator's hot path.
pgo:
	$(GO) test -run '^$$' -bench Sim100Servers -benchtime 8x -cpuprofile cmd/redirlab/default.pgo ./sim/
	rm -f sim.test

bench:
	./scripts/bench-sim.sh
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) $(BENCH_PKGS) | tee bench.txt

# The behaviour gate: every embedded scenario, a short seeded simulation,
# against testdata/baselines/ with regress --exact. `make baselines`
# rewrites them when a change of behaviour is intended.
gate:
	./scripts/ci-gate.sh

baselines:
	./scripts/ci-gate.sh update

run:
	$(GO) run ./cmd/redirlab run

sim:
	$(GO) run ./cmd/redirlab sim

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./scenarios/

clean:
	rm -rf redirlab runs
