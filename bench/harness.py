"""What every benchmark needs: throw-away databases with the addons, then the
benchmark itself re-run inside Odoo's Python with those databases' registries."""

import argparse
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "setup"))


def parse(doc, **options):
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, default in options.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, default=default)
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    parser.add_argument("--addons-path", help=argparse.SUPPRESS)
    return parser.parse_args()


def run(script, args, addons, measure, inside_runs=None):
    """From plain python3: make the database(s) and re-run ``script`` inside them.

    ``addons``: the addon to install (one database; inside, ``measure(registry, args)``),
    or a list of them, one database each, made the same way (inside,
    ``measure([registry, ...], args)`` in the same order). ``inside_runs(run_inside)``,
    when given, runs ``script`` inside as it needs: ``run_inside(prefix=(), **options)``
    runs it once, after ``prefix`` (a command that runs Python) and with ``options``
    replacing the benchmark's own; by default it runs once, as it was called."""
    several = not isinstance(addons, str)
    if args.inside:
        import odoo

        names = args.inside.split(",")
        odoo.tools.config.parse_config(["-d", names[0], f"--addons-path={args.addons_path}", "--log-level=warn"])
        registries = [odoo.modules.registry.Registry(name) for name in names]
        return measure(registries if several else registries[0], args)
    from odoo_run import drop_database, odoo_command, prepared_env

    env = prepared_env()
    addons = list(addons) if several else [addons]
    databases = [f"smc_bench_{os.getpid()}" + (f"_{index}" if several else "") for index in range(len(addons))]
    try:
        for database, addon in zip(databases, addons, strict=True):
            drop_database(env, database)
            print(f"[bench] creating {database} with {addon}", flush=True)
            subprocess.run(
                odoo_command(env, database, "-i", addon, "--stop-after-init", "--without-demo=all", "--log-level=warn"),
                check=True,
            )

        def run_inside(prefix=(), **overrides):
            options = [
                f"--{key.replace('_', '-')}={value}"
                for key, value in dict(vars(args), **overrides).items()
                if key not in ("inside", "addons_path")
            ]
            subprocess.run(
                [*prefix, env["python"], script, "--inside", ",".join(databases), "--addons-path", env["addons_path"]]
                + options,
                check=True,
                env=dict(os.environ, PYTHONPATH=env["odoo_src"]),
            )

        if inside_runs:
            inside_runs(run_inside)
        else:
            run_inside()
    finally:
        for database in databases:
            drop_database(env, database)
    return None


def profiled(title, function, *args, **kwargs):
    """Run ``function`` and print where its time went; returns (its result, elapsed seconds).

    With pyinstrument installed (``pip install pyinstrument`` in Odoo's venv): its call
    tree, sampled on the wall clock (waiting on PostgreSQL or the simulator counts);
    else cProfile's cumulative table."""
    import time

    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        started = time.perf_counter()
        result = profiler.runcall(function, *args, **kwargs)
        elapsed = time.perf_counter() - started
        print(f"\n=== {title} (cProfile)")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
        return result, elapsed
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        result = function(*args, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"\n=== {title} (pyinstrument)")
    print(profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False))
    return result, elapsed


@contextmanager
def patched_methods(registry, methods, wrap):
    """Each ``(model, method name)`` of ``methods`` replaced on the registry's model class by
    ``wrap(original, "model.method")`` while the block runs, then put back as it was."""
    saved = []
    try:
        for model, name in methods:
            cls = registry[model]
            saved.append((cls, name, cls.__dict__.get(name)))
            setattr(cls, name, wrap(getattr(cls, name), f"{model}.{name}"))
        yield
    finally:
        for cls, name, own in reversed(saved):
            if own is None:
                delattr(cls, name)
            else:
                setattr(cls, name, own)


class PhaseTimer:
    """Wall time spent in some ORM methods, cumulated per method (inclusive: a method
    called inside another counts in both), by patching the registry's model classes
    while the ``with`` block runs. Cheap enough to leave the measured figures alone."""

    def __init__(self, env, methods):
        import time

        self.clock = time.perf_counter
        self.env, self.methods = env, methods  # [(model, method name)]
        self.spent, self.calls = {}, {}
        self._patched = None

    def _timed(self, original, key):
        self.spent.setdefault(key, 0.0)
        self.calls.setdefault(key, 0)

        def timed(*args, **kwargs):
            started = self.clock()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[key] += self.clock() - started
                self.calls[key] += 1

        return timed

    def __enter__(self):
        self._patched = patched_methods(self.env.registry, self.methods, self._timed)
        self._patched.__enter__()
        return self

    def __exit__(self, *exc):
        self._patched.__exit__(*exc)
        self._patched = None
        return False


def median_interval(values, confidence=0.95, resamples=2000):
    """The median of ``values`` and its ``confidence`` interval, by bootstrap (the values
    drawn again with replacement ``resamples`` times, a fixed seed: the same run prints
    the same interval). Says how far a median measured on a busy machine can be trusted."""
    import random
    import statistics

    draw = random.Random(14)
    values = list(values)
    medians = sorted(statistics.median(draw.choices(values, k=len(values))) for _ in range(resamples))
    tail = (1 - confidence) / 2
    return statistics.median(values), medians[int(tail * resamples)], medians[int((1 - tail) * resamples) - 1]
