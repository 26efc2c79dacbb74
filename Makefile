# Shortcuts; each target is a script that installs what it needs first.
.PHONY: run test eval bench load video-bench video-eval bench-scaleout api-fuzz soak fuzz
run:
	./scripts/run.sh
test:
	./scripts/test.sh
eval:
	./scripts/eval.sh
bench:
	./scripts/bench.sh
load:
	./scripts/load.sh
video-bench:
	./scripts/video-bench.sh

video-eval:
	./scripts/video-eval.sh

bench-scaleout:
	./scripts/bench-scaleout.sh

api-fuzz:
	./scripts/api-fuzz.sh

soak:
	./scripts/soak.sh --pressure

fuzz:
	./scripts/fuzz.sh
