# Shortcuts; each target is a script that installs what it needs first.
.PHONY: run test eval bench
run:
	./scripts/run.sh
test:
	./scripts/test.sh
eval:
	./scripts/eval.sh
bench:
	./scripts/bench.sh
