#!/usr/bin/python3
"""Check orchestrator/stats.c against scipy and statsmodels.

usage: /usr/bin/python3 tests/stats-check.py BUILD_DIR

Generates a few hundred random cases (fixed seed, so every run checks the same
ones) per operation, degenerate ones included, runs them through
BUILD_DIR/tests/stats-ref (stats.c as a JSON-lines filter) and compares with
independent references:

  quasi   X² = scipy.stats.chi2_contingency(correction=False); phi_raw =
          statsmodels GLM(Binomial, var_weights=n).fit(scale='X2').scale when
          k' = 2 (numpy Pearson sum otherwise, and for a perfect fit, which
          statsmodels refuses); p = scipy.stats.f.sf
  fsf     scipy.stats.f.sf (1 - f.cdf where sf > 1/2: cephes forms 1 - w there
          and loses digits at small x)
  betai   scipy.special.betainc
  betaq   scipy.stats.beta.ppf
  tq      scipy.stats.norm.ppf; scipy.stats.t.ppf polished by Newton steps on
          scipy's t.cdf (stdtrit alone is off by up to ~1e-9; shown)
  holm    statsmodels multipletests(method='holm')
  cp      statsmodels proportion_confint(method='beta')
  ffh     the exact test (stats_exact_2xk) against ffh_ref() below: every
          table's probability from log-factorials to 45 digits (exact below
          200, Stirling's series above), the two largest columns walked out
          from their mode (independent of stats.c's log-factorial table and
          Loader terms; scipy's fisher_exact is off by 2e-8, or NaN, at 2^30)
          and scipy.stats.fisher_exact for 2×2 tables of small counts;
          small tables, N past STATS_TABLE_MAX_N with few tables, and the
          switch-over at STATS_MAX_TABLES tables (2,000,000 enumerated, one
          more: the chi-square)
  ffh-chi2  tables past STATS_MAX_TABLES with every expected count >= 5 and
          N > 65536: p and X² against scipy.stats.chi2_contingency(
          correction=False); the chi-square's distance from the exact p
          (ffh_ref) is shown where the reference is cheap
  ffh-mc  tables past STATS_MAX_TABLES with a small expected count, sampled:
          within 5 standard errors (sqrt(p (1 - p) / 200000)) of ffh_ref()
  chi2sf  scipy.stats.chi2.sf
  effect  numpy (Agresti-Caffo), column chosen with exact fractions, the t
          quantile polished by a Newton step on scipy's t.cdf (stdtrit is
          off by up to ~3e-9)
  betai-hp, fsf-hp   integer (a, b): I_x(a, b) = P(Binomial(a+b-1, x) >= a)
          summed in 50-digit decimal arithmetic; tolerance 1e-11 (stats.h
          promises about 1e-12, a few 1e-12 at worst with one parameter near
          1e5 and the other small; scipy's betainc, from differences of
          lgamma, is off by ~1e-10 at a, b ~ 1e5)
  tq-closed  df = 1: tan(pi (p - 1/2)); df = 2: (2p - 1) / sqrt(2p (1 - p)),
          p down to 1e-300 (where scipy's t.ppf gives up)

Agreement: relative 1e-9; for quantities that can be 0 or change sign
(X², F, phi_raw, differences, t quantiles) relative above 1e-3 and absolute
1e-12 below. Where scipy's beta.ppf (boost) is inexact (extreme tails), a
value that disagrees with it is accepted
only if it is the better root under scipy's forward function: its error
implied by |F(x) - p| / (F'(x) |x|) is below 1e-9 and below that of scipy's
value. Such cases are counted and shown.

The GLM is given proportions with var_weights = n: with a two-column
(successes, failures) endog, statsmodels 0.13 computes pearson_chi2, hence
the X2 scale, on the proportion scale without the n-trials weight
(statsmodels issue #3612).
Prints one summary line per operation (cases, max relative error), then
"N passed, N failed". Needs python3-scipy and python3-statsmodels
(/usr/bin/python3).
"""
import functools
import json
import math
import random
import subprocess
import sys
import warnings
from decimal import Decimal, getcontext
from fractions import Fraction
from itertools import product

try:
    import numpy as np
    from scipy import special, stats
    import statsmodels.api as sm
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportion_confint
    from statsmodels.tools.sm_exceptions import PerfectSeparationError
except ImportError as ex:
    sys.stderr.write(f"stats-check: {ex} (apt-get install python3-scipy python3-statsmodels; "
                     "run with /usr/bin/python3)\n")
    sys.exit(2)

from kfarmtest import BUILD, check, finish

SEED = 20240611
REL = 1e-9
# Below this magnitude "mixed" quantities are compared absolutely (1e-12 = REL * 1e-3).
MIX_FLOOR = 1e-3
# "Relative" quantities (p-values, proportions' bounds) are relative down to here.
REL_FLOOR = 1e-300
# Against the 50-digit references.
HP_REL = 1e-11
getcontext().prec = 50

warnings.simplefilter("ignore")
rng = random.Random(SEED)


def err(got, ref, floor):
    """|got - ref| / max(|ref|, floor); inf when one is missing or not finite."""
    if got is None or ref is None:
        return 0.0 if got is None and ref is None else math.inf
    ref = float(ref)
    if got == ref:
        return 0.0
    if not math.isfinite(ref) or not math.isfinite(got):
        return math.inf
    return abs(got - ref) / max(abs(ref), floor)


class Op:
    """The cases of one operation, their references and the worst agreement."""

    def __init__(self, name, ref_name, driver=None, tol=REL):
        self.name, self.ref_name, self.driver, self.tol = name, ref_name, driver or name, tol
        self.cases, self.refs = [], []
        self.max_err, self.worst, self.failures, self.notes = 0.0, None, [], []

    def add(self, case, ref):
        self.cases.append(dict(case, op=self.driver))
        self.refs.append(ref)

    def compare(self, i, got, ref, fields):
        """fields: (name, floor); floor None = must be equal."""
        case = self.cases[i]
        if "error" in ref or "error" in got:
            if ("error" in ref) != ("error" in got):
                self.failures.append((case, got, ref, "error", math.inf))
            return
        for name, floor in fields:
            g, r = got.get(name), ref[name]
            if floor is None:
                e = 0.0 if g == r else math.inf
            else:
                e = err(g, r, floor)
            if callable(ref.get("_accept")) and e > self.tol and ref["_accept"](name, g):
                self.notes.append((case, name, g, r))
                continue
            if e > self.max_err:
                self.max_err, self.worst = e, (case, name, g, r)
            if e > self.tol:
                self.failures.append((case, got, ref, name, e))


def side(rng_, boots, k, kind, sizes):
    """boots × k counts of one side (lists), drawn according to kind."""
    rows = []
    if kind == "uniform":
        rows = [[rng_.randint(0, 200) for _ in range(k)] for _ in range(boots)]
    elif kind in ("multinomial", "identical"):
        pi = np.random.default_rng(rng_.randrange(1 << 30)).dirichlet([1.0] * k)
        g = np.random.default_rng(rng_.randrange(1 << 30))
        if kind == "identical":
            row = [int(v) for v in g.multinomial(sizes[0], pi)]
            rows = [list(row) for _ in range(boots)]
        else:
            rows = [[int(v) for v in g.multinomial(n, pi)] for n in sizes]
    elif kind == "one-category":
        c = rng_.randrange(k)
        rows = [[n if j == c else 0 for j in range(k)] for n in sizes]
    return rows


def quasi_cases(op, n):
    for i in range(n):
        k = rng.randint(2, 6)
        ba, bb = rng.randint(2, 8), rng.randint(2, 8)
        kinds = ["uniform", "multinomial", "identical", "one-category"]
        ka = rng.choice(kinds)
        kb = rng.choice(kinds)
        if i % 5 == 0:  # the null: both sides from one pi, phi near 1 (often below)
            seed = rng.randrange(1 << 30)
            sizes_a = [rng.randint(1, 200) for _ in range(ba)]
            sizes_b = [rng.randint(1, 200) for _ in range(bb)]
            pi = np.random.default_rng(seed).dirichlet([2.0] * k)
            g = np.random.default_rng(seed + 1)
            a = [[int(v) for v in g.multinomial(s, pi)] for s in sizes_a]
            b = [[int(v) for v in g.multinomial(s, pi)] for s in sizes_b]
        else:
            # unequal boot sizes: anything from 1 to 200 repetitions
            sizes_a = [rng.randint(1, 200) for _ in range(ba)]
            sizes_b = [rng.randint(1, 200) for _ in range(bb)]
            a = side(rng, ba, k, ka, sizes_a)
            b = side(rng, bb, k, kb, sizes_b)
        if rng.random() < 0.25:  # a column that is zero everywhere
            c = rng.randrange(k)
            for r in a + b:
                r[c] = 0
        if rng.random() < 0.2:  # empty boots
            for r in rng.sample(a + b, rng.randint(1, 2)):
                r[:] = [0] * k
        op.add({"a": a, "b": b}, quasi_ref(a, b, k))
    # strong shifts over many boots: tiny p-values
    for i in range(40):
        k = rng.randint(2, 4)
        ba, bb = rng.randint(3, 8), rng.randint(3, 8)
        g = np.random.default_rng(SEED + i)
        pa = g.dirichlet([1.0] * k)
        pb = 0.5 * pa + 0.5 * g.dirichlet([1.0] * k)
        a = [[int(v) for v in g.multinomial(rng.randint(20, 200), pa)] for _ in range(ba)]
        b = [[int(v) for v in g.multinomial(rng.randint(20, 200), pb)] for _ in range(bb)]
        op.add({"a": a, "b": b}, quasi_ref(a, b, k))
    fixed = [
        ([[5, 5]], [[6, 4]]),                     # B = 2: error
        ([[5, 5], [4, 6]], [[0, 0], [0, 0]]),     # side b empty: error
        ([[5, 5], [4, 6]], []),                   # no boots on b: error
        ([[5, -1], [4, 6]], [[1, 2], [3, 4]]),    # negative count: error
        ([[7, 0], [9, 0]], [[3, 0], [1, 0]]),     # k' = 1: p = 1
        ([[0, 7, 0], [0, 9, 0]], [[0, 3, 0]]),    # k' = 1, three boots
        ([[10, 10], [10, 10]], [[10, 10], [10, 10]]),   # identical everything: x2 = 0, phi_raw = 0
        ([[20, 0], [20, 0], [20, 0]], [[0, 20], [0, 20], [0, 20]]),  # separated, no dispersion
        ([[50, 50]] * 8, [[20, 80]] * 8),       # every boot identical per side
        ([[1, 0], [0, 1], [1, 1]], [[0, 1], [1, 0]]),  # tiny counts
    ]
    for a, b in fixed:
        kk = len((a or b)[0])
        op.add({"a": a, "b": b}, quasi_ref(a, b, kk))


def pearson_phi(sides, kk, df2):
    num = 0.0
    for m in sides:
        tot = m.sum(0).astype(float)
        pi = tot / tot.sum()
        n = m.sum(1).astype(float)
        for c in range(kk):
            if pi[c] > 0:
                e = n * pi[c]
                num += float((((m[:, c] - e) ** 2) / e).sum())
    return num / df2


def quasi_ref(a, b, k):
    A = np.array(a, dtype=np.int64).reshape(-1, k)
    B = np.array(b, dtype=np.int64).reshape(-1, k)
    if (A < 0).any() or (B < 0).any():
        return {"error": "negative"}
    keep = (A.sum(0) + B.sum(0)) > 0
    A, B = A[:, keep], B[:, keep]
    A, B = A[A.sum(1) > 0], B[B.sum(1) > 0]
    ba, bb, kk = len(A), len(B), int(keep.sum())
    if ba == 0 or bb == 0 or ba + bb < 3:
        return {"error": "boots"}
    if kk < 2:
        return dict(p=1, x2=0, f=0, phi=1, phi_raw=1, df1=0, df2=0, k=kk, boots_a=ba, boots_b=bb)
    table = np.vstack([A.sum(0), B.sum(0)])
    x2 = stats.chi2_contingency(table, correction=False)[0]
    df1, df2 = kk - 1, (ba + bb - 2) * (kk - 1)
    phi_np = pearson_phi([A, B], kk, df2)
    how = "numpy"
    phi_raw = phi_np
    if kk == 2 and all(0 < m[:, 0].sum() < m.sum() for m in (A, B)):
        counts = np.vstack([A, B]).astype(float)
        n = counts.sum(1)
        exog = np.column_stack([np.ones(ba + bb), np.r_[np.zeros(ba), np.ones(bb)]])
        try:
            res = sm.GLM(counts[:, 0] / n, exog, family=sm.families.Binomial(),
                         var_weights=n).fit(scale="X2", tol=1e-13)
            phi_raw, how = res.scale, "glm"
        except (PerfectSeparationError, ValueError):
            # every boot exactly at its side's proportion: statsmodels refuses a
            # perfect fit (or finds a 0/0 deviance); the Pearson sum is then 0
            how = "numpy (perfect fit)"
    phi = max(1.0, phi_raw)
    f = x2 / df1 / phi
    return dict(p=stats.f.sf(f, df1, df2), x2=x2, f=f, phi=phi, phi_raw=phi_raw, df1=df1,
                df2=df2, k=kk, boots_a=ba, boots_b=bb, _phi_np=phi_np, _how=how)


def _pi():
    """pi to the context's precision (the decimal module's recipe)."""
    getcontext().prec += 2
    three = Decimal(3); lasts, t, s, n, na, d, da = 0, three, 3, 1, 0, 0, 24
    while s != lasts:
        lasts = s; n, na = n + na, na + 8; d, da = d + da, da + 32; t = (t * n) / d; s += t
    getcontext().prec -= 2
    return +s
LN2PI = (2 * _pi()).ln()



@functools.lru_cache(maxsize=None)
def lfact(n):
    """log(n!) to ~45 digits: exact below 200, Stirling's series above."""
    if n < 200:
        return Decimal(math.factorial(n)).ln()
    x = Decimal(n)
    s = (x + Decimal("0.5")) * x.ln() - x + LN2PI / 2
    for b, k in ((Decimal(1) / 12, 1), (Decimal(-1) / 360, 3), (Decimal(1) / 1260, 5),
                 (Decimal(-1) / 1680, 7), (Decimal(1) / 1188, 9)):
        s += b / x ** k
    return s

def ffh_ref(a, b, tie=1e-7):
    """FFH p-value for counts of any size: the columns but the two largest are
    enumerated; for each, the two largest form a hypergeometric walked out
    from its mode by ratios until the terms fall below 1e-40 of it."""
    cols = [(x + y, x) for x, y in zip(a, b) if x + y > 0]
    na, nb = sum(a), sum(b)
    if len(cols) < 2 or na == 0 or nb == 0:
        return 1.0
    N = na + nb
    order = sorted(range(len(cols)), key=lambda j: -cols[j][0])
    big, small = order[:2], order[2:]
    base = lfact(na) + lfact(nb) - lfact(N) + sum(lfact(c) for c, _ in cols)
    def logp(x):  # x: row a per column
        return base - sum(lfact(xi) + lfact(c - xi) for (c, _), xi in zip(cols, x))
    lobs = logp([xa for _, xa in cols])
    limit = lobs + Decimal(tie)
    total = 0.0
    c1, c2 = cols[big[0]][0], cols[big[1]][0]
    for xs in product(*[range(cols[j][0] + 1) for j in small]):
        t = na - sum(xs)
        lo, hi = max(0, t - c2), min(c1, t)
        if lo > hi:
            continue
        m = min(max((t + 1) * (c1 + 1) // (c1 + c2 + 2), lo), hi)
        def lp(x1):
            x = [0] * len(cols)
            for j, v in zip(small, xs):
                x[j] = v
            x[big[0]], x[big[1]] = x1, t - x1
            return logp(x)
        lm = lp(m)
        for step in (1, -1):
            x1 = m if step == 1 else m - 1
            if step == -1 and x1 < lo:
                continue
            l = lm if step == 1 else lp(x1)
            # from the exact start, float ratios (correctly rounded quotients of
            # integers): a relative error of ~1e-16 a step
            while lo <= x1 <= hi:
                if l <= limit:
                    total += math.exp(float(l))
                if float(l - lm) < -92:  # e^-92 ~ 1e-40
                    break
                if step == 1:
                    r = (c1 - x1) * (t - x1) / ((x1 + 1) * (c2 - t + x1 + 1))
                else:
                    r = x1 * (c2 - t + x1) / ((c1 - x1 + 1) * (t - x1 + 1))
                l += Decimal(math.log(r)) if r > 0 else Decimal(-1000)
                x1 += step
    return min(total, 1.0)


def ffh_cases(op, n):
    for i in range(n):
        k = rng.randint(2, 4)
        a = [rng.choice([0, rng.randint(0, 12), rng.randint(0, 40)]) for _ in range(k)]
        b = [rng.choice([0, rng.randint(0, 12), rng.randint(0, 40)]) for _ in range(k)]
        op.add({"a": a, "b": b}, {"p": ffh_ref(a, b), "test": "fisher-exact"})
    for a, b in (([3, 1], [1, 3]), ([8, 2], [1, 5]), ([20, 0], [0, 20]), ([30, 9], [14, 25])):
        op.add({"a": a, "b": b}, {"p": float(stats.fisher_exact([a, b])[1]),
                                  "test": "fisher-exact"})
    g30 = 1 << 30
    big = [([g30, 5], [g30, 3]), ([g30, 0, 2], [g30 + 7, 3, 0]), ([10 ** 9, 40], [10 ** 9, 12]),
           ([70000, 3], [1, 70000]), ([40000, 3000], [40000, 2950]),
           # STATS_MAX_TABLES = 2e6 tables: enumerated at N = 8e6 - 1
           ([1000000, 1000000], [999999, 1003000]),
           ([1000000, 1000000], [999999, 1000000])]
    for a, b in big:
        op.add({"a": a, "b": b}, {"p": ffh_ref(a, b), "test": "fisher-exact"})


def chi2_cases(op, n):
    g30 = 1 << 30
    fixed = [([g30, g30], [g30, g30]), ([g30, g30], [g30, g30 + 100000]),
             ([10 ** 6, 10 ** 6], [10 ** 6, 10 ** 6]), ([10 ** 6, 10 ** 6], [10 ** 6, 1003000]),
             # one table more than STATS_MAX_TABLES: the switch-over
             ([1000000, 1000000], [1000000, 1003000]),
             ([1000000, 1000000], [1000000, 1000000]),
             ([2 ** 31, 2 ** 31 + 1], [2 ** 31 - 1, 2 ** 31]),
             # N = 65537, just past STATS_TABLE_MAX_N (at 65536 it would be sampled)
             ([11000, 11000, 10769], [11000, 10900, 10868]),
             ([2 ** 32, 7000, 2 ** 32], [2 ** 32 + 90000, 6500, 2 ** 32 - 5])]
    for i in range(n):
        k = rng.randint(2, 5)
        scale = 10 ** rng.uniform(7.5, 10.8)  # past 2e6 tables, within 2^40 in all
        pi = [rng.uniform(0.05, 1) for _ in range(k)]
        a = [int(scale * v) for v in pi]
        shift = rng.choice([0, 1e-5, 1e-4, 1e-3])
        b = [int(scale * v * (1 + shift * rng.uniform(-1, 1))) for v in pi]
        fixed.append((a, b))
    for a, b in fixed:
        x2, pv = stats.chi2_contingency([a, b], correction=False)[:2]
        op.add({"a": a, "b": b}, {"p": float(pv), "x2": float(x2), "test": "chi-square"})


def mc_cases(op):
    for a, b in (([1000000, 1000000, 1], [1000000, 1000000, 3]),
                 ([3000000, 2500000, 2], [3000000, 2600000, 0]),
                 ([1 << 26, 1 << 26, 4], [1 << 26, (1 << 26) + 15000, 0])):
        op.add({"a": a, "b": b}, {"p": ffh_ref(a, b), "test": "monte-carlo"})
    # forced to sample (max_tables 10): small tables whose exact p is known
    for i in range(20):
        a = [rng.randint(0, 30) for _ in range(3)]
        b = [rng.randint(0, 30) for _ in range(3)]
        op.add({"a": a, "b": b, "max_tables": 10}, {"p": ffh_ref(a, b), "test": "monte-carlo"})


def chi2sf_cases(op, n):
    for i in range(n):
        df = rng.choice([1, 2, 3, 4, 5, 9, rng.randint(1, 200), round(loguniform(0.5, 100), 3)])
        r = i % 3
        if r == 0:
            x = loguniform(1e-4, 1e3)
        else:
            x = float(stats.chi2.isf(10.0 ** -rng.uniform(0.01, 290), df))
        op.add({"x": x, "df": df}, {"sf": float(stats.chi2.sf(x, df))})


def loguniform(lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def fsf_cases(op, n):
    for i in range(n):
        d1 = rng.choice([1, 2, 3, 4, 5, 10, round(loguniform(0.5, 30), 3)])
        d2 = rng.choice([rng.randint(1, 100), round(rng.uniform(1, 100), 2)])
        r = i % 4
        if r == 0:
            x = loguniform(1e-4, 1e4)
        elif r == 1:  # at a chosen tail probability, down to 1e-300
            x = float(stats.f.isf(10.0 ** -rng.uniform(1, 300), d1, d2))
        elif r == 2:
            x = float(stats.f.isf(1e-12, d1, d2)) * rng.uniform(0.9, 1.1)
        else:
            x = rng.choice([0.0, 1e-12, 1e-6, 1.0, 1e6, 1e10, 1e20])
        if not math.isfinite(x):
            continue
        sf = stats.f.sf(x, d1, d2)
        if sf > 0.5:
            sf = 1 - stats.f.cdf(x, d1, d2)
        op.add({"x": x, "d1": d1, "d2": d2}, {"sf": sf})


def betai_hp(a, b, x):
    """I_x(a, b) for integers a, b >= 1 and x a Decimal in (0, 1):
    P(Binomial(a+b-1, x) >= a), summed term by term in 50 digits (all
    terms positive; the smaller tail is summed and the other is 1 - it)."""
    n = a + b - 1
    y = 1 - x
    eps = Decimal(10) ** -48
    if a > n * x:  # the upper tail j >= a is the smaller
        t = Decimal(math.comb(n, a)) * x ** a * y ** (n - a)
        s, j = t, a
        while j < n and t >= s * eps:
            t = t * (n - j) / (j + 1) * x / y
            j += 1
            s += t
        return s
    t = Decimal(math.comb(n, a - 1)) * x ** (a - 1) * y ** (n - a + 1)
    s, j = t, a - 1
    while j > 0 and t >= s * eps:
        t = t * j / (n - j + 1) * y / x
        j -= 1
        s += t
    return 1 - s


def betai_hp_cases(op, n):
    # one parameter large, the other small, x on the far side of the mean:
    # the continued fraction is taken on the other side, from a rounded 1 - x
    for k in (1.5, 2, 3, 5, 8, 12, 20, 40):
        for a, b in ((1, 75000), (3, 100000), (2, 30000)):
            x = k / b
            op.add({"a": a, "b": b, "x": x}, {"i": float(betai_hp(a, b, Decimal(x)))})
            # and mirrored, x near 1 (1 - x exact there)
            op.add({"a": b, "b": a, "x": 1 - x}, {"i": float(betai_hp(b, a, Decimal(1 - x)))})
    for i in range(n):
        hi = 100000 if i % 2 else 300
        a, b = rng.randint(1, hi), rng.randint(1, hi)
        u = rng.choice([rng.random(), 10.0 ** -rng.uniform(1, 12)])
        x = float(stats.beta.ppf(u, a, b))
        if not 0 < x < 1:
            continue
        op.add({"a": a, "b": b, "x": x}, {"i": float(betai_hp(a, b, Decimal(x)))})


def fsf_hp_cases(op, n):
    for i in range(n):
        d1, d2 = 2 * rng.randint(1, 10), 2 * rng.randint(1, 50)
        x = rng.choice([10.0 ** -rng.uniform(4, 16), loguniform(0.01, 100),
                        float(stats.f.isf(10.0 ** -rng.uniform(1, 100), d1, d2))])
        if not 0 < x < math.inf:
            continue
        w = Decimal(d2) / (Decimal(d2) + Decimal(d1) * Decimal(x))
        op.add({"x": x, "d1": d1, "d2": d2}, {"sf": float(betai_hp(d2 // 2, d1 // 2, w))})


def betai_cases(op, n):
    for i in range(n):
        if i % 3 == 0:
            a, b = loguniform(0.5, 1e5), loguniform(0.5, 1e5)
        else:
            a, b = loguniform(0.5, 200), loguniform(0.5, 200)
        # around the bulk: a quantile of the distribution itself
        u = rng.choice([rng.random(), 10.0 ** -rng.uniform(1, 12), 1 - 10.0 ** -rng.uniform(1, 12)])
        x = float(stats.beta.ppf(u, a, b))
        if not 0 <= x <= 1:
            continue
        op.add({"a": a, "b": b, "x": x}, {"i": special.betainc(a, b, x)})


def inverse_accept(dist, p, ref, floor):
    """For an inexact scipy inverse: accept got if, under scipy's cdf (sf above
    the median) and pdf, its implied relative error is below REL and below
    that of scipy's own value."""
    def implied(x):
        if p <= 0.5:
            d = dist.cdf(x) - p
        else:
            d = dist.sf(x) - (1 - p)
        return abs(d) / (dist.pdf(x) * max(abs(x), floor))

    def accept(_name, got):
        if got is None:
            return False
        ig = implied(got)
        return ig <= REL and ig < implied(ref)
    return accept


def t_ppf(z, df):
    """scipy's t.ppf, polished by Newton steps on scipy's t.cdf (t.sf above
    the median), which is accurate where stdtrit is not."""
    q = float(stats.t.ppf(z, df))
    for _ in range(3):
        d = stats.t.cdf(q, df) - z if z <= 0.5 else (1 - z) - stats.t.sf(q, df)
        step = d / stats.t.pdf(q, df)
        q -= step
        if abs(step) <= 1e-15 * abs(q):
            break
    return q


def betaq_cases(op, n):
    for i in range(n):
        if i % 4 == 0:
            a, b = loguniform(0.5, 1e4), loguniform(0.5, 1e4)
        else:
            a, b = loguniform(0.5, 100), loguniform(0.5, 100)
        p = rng.choice([rng.random(), 10.0 ** -rng.uniform(1, 12), 1 - 10.0 ** -rng.uniform(1, 8)])
        ref = float(stats.beta.ppf(p, a, b))
        op.add({"p": p, "a": a, "b": b},
               {"x": ref, "_accept": inverse_accept(stats.beta(a, b), p, ref, REL_FLOOR)})


def tq_closed(p, df):
    """Student's t quantile in closed form for df = 1 (Cauchy) and df = 2."""
    if df == 2:
        return (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    if p < 0.25:
        return -1 / math.tan(math.pi * p)
    if p > 0.75:
        return 1 / math.tan(math.pi * (1 - p))
    return math.tan(math.pi * (p - 0.5))


def tq_closed_cases(op, n):
    for i in range(n):
        df = rng.choice([1, 2])
        p = rng.choice([rng.random(), 10.0 ** -rng.uniform(1, 300), 1 - 10.0 ** -rng.uniform(1, 12),
                        0.5 + rng.uniform(-1e-9, 1e-9)])
        op.add({"p": p, "df": df}, {"q": tq_closed(p, df)})


def tq_cases(op, n):
    for i in range(n):
        df = rng.choice([rng.randint(1, 100), round(loguniform(0.5, 100), 3), "inf",
                         round(loguniform(100, 1e9))])
        p = rng.choice([rng.random(), 10.0 ** -rng.uniform(1, 12), 1 - 10.0 ** -rng.uniform(1, 8),
                        0.5 + rng.uniform(-1e-6, 1e-6), 1e-12])
        if df == "inf":
            op.add({"p": p, "df": df}, {"q": float(stats.norm.ppf(p))})
        else:
            op.add({"p": p, "df": df}, {"q": t_ppf(p, df), "_raw": float(stats.t.ppf(p, df))})


def holm_cases(op, n):
    for i in range(n):
        m = rng.randint(1, 20)
        p = [rng.choice([rng.random(), 10.0 ** -rng.uniform(0, 15), 0.0, 1.0, 0.05])
             for _ in range(m)]
        if m > 2 and rng.random() < 0.3:  # ties
            p[1] = p[0]
        op.add({"p": p}, {"adj": [float(v) for v in multipletests(p, method="holm")[1]]})


def cp_cases(op, n):
    for i in range(n):
        nn = rng.choice([rng.randint(1, 20), rng.randint(1, 500), rng.randint(500, 100000)])
        x = rng.choice([0, nn, rng.randint(0, nn), 1, nn - 1])
        level = rng.choice([0.9, 0.95, 0.99, 0.999, round(rng.uniform(0.5, 0.9999), 4)])
        lo, hi = proportion_confint(x, nn, alpha=1 - level, method="beta")
        op.add({"x": x, "n": nn, "level": level}, {"lo": float(lo), "hi": float(hi)})


def effect_ref(ta, tb, phi, df, level):
    na, nb = sum(ta), sum(tb)
    if na == 0 or nb == 0:
        return {"error": "empty"}
    d = [abs(Fraction(y, nb) - Fraction(x, na)) for x, y in zip(ta, tb)]
    c = d.index(max(d))  # first maximum: lowest index on ties
    pa, pb = np.float64(ta[c]) / na, np.float64(tb[c]) / nb
    qa, qb = (ta[c] + 1.0) / (na + 2.0), (tb[c] + 1.0) / (nb + 2.0)
    se = math.sqrt(phi * (qa * (1 - qa) / (na + 2) + qb * (1 - qb) / (nb + 2)))
    z = (1 + level) / 2
    q = stats.norm.ppf(z) if df in (0, "inf") else t_ppf(z, df)
    lo, hi = qb - qa - q * se, qb - qa + q * se
    return dict(col=c, pa=pa, pb=pb, diff=pb - pa, lo=max(-1.0, lo), hi=min(1.0, hi))


def effect_cases(op, n):
    for i in range(n):
        k = rng.randint(2, 6)
        ta = [rng.choice([0, rng.randint(0, 200), rng.randint(0, 5)]) for _ in range(k)]
        tb = [rng.choice([0, rng.randint(0, 200), rng.randint(0, 5)]) for _ in range(k)]
        if i % 7 == 0:  # ties: b is a scaled copy of a with two columns swapped
            tb = [2 * v for v in ta]
            tb[0], tb[-1] = tb[-1], tb[0]
        if i % 11 == 0:
            tb = [0] * k
        phi = rng.choice([1.0, loguniform(1, 20)])
        df = rng.choice([0, "inf", rng.randint(1, 100), round(loguniform(1, 100), 2)])
        level = rng.choice([0.8, 0.9, 0.95, 0.99])
        op.add({"a": ta, "b": tb, "phi": phi, "df": df, "level": level},
               effect_ref(ta, tb, phi, df, level))


def run_ref(ops):
    exe = f"{BUILD}/tests/stats-ref"
    lines = []
    for op in ops:
        for i, c in enumerate(op.cases):
            lines.append(json.dumps(dict(c, id=f"{op.name}:{i}"), allow_nan=False))
    p = subprocess.run([exe], input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=600)
    out, bad = [], []
    for s in p.stdout.splitlines():
        try:
            out.append(json.loads(s))
        except ValueError:
            bad.append(s)
    ids = {o.get("id") for o in out if isinstance(o, dict)}
    check(f"stats-ref ran all {len(lines)} cases, one JSON answer each",
          p.returncode == 0 and not bad and len(out) == len(lines) == len(ids),
          f"exit {p.returncode}, {len(out)} answers for {len(ids)} ids, {len(bad)} lines not JSON "
          f"({bad[:2]}); {p.stderr[-1000:]}")
    return {o.get("id"): o for o in out if isinstance(o, dict)}


def main():
    ops = {
        "quasi": Op("quasi", "chi2_contingency + GLM(Binomial, scale='X2') + f.sf"),
        "fsf": Op("fsf", "scipy.stats.f.sf"),
        "betai": Op("betai", "scipy.special.betainc"),
        "betai-hp": Op("betai-hp", "50-digit binomial sum", "betai", HP_REL),
        "fsf-hp": Op("fsf-hp", "50-digit binomial sum", "fsf", HP_REL),
        "betaq": Op("betaq", "scipy.stats.beta.ppf"),
        "tq": Op("tq", "scipy.stats.t.ppf (polished) / norm.ppf"),
        "tq-closed": Op("tq-closed", "closed forms for df = 1, 2", "tq"),
        "holm": Op("holm", "statsmodels multipletests holm"),
        "cp": Op("cp", "statsmodels proportion_confint beta"),
        "effect": Op("effect", "numpy Agresti-Caffo"),
        "ffh": Op("ffh", "ffh_ref (45-digit log-factorials) / scipy fisher_exact"),
        "ffh-chi2": Op("ffh-chi2", "scipy.stats.chi2_contingency", "ffh"),
        "ffh-mc": Op("ffh-mc", "ffh_ref, within 5 standard errors", "ffh"),
        "chi2sf": Op("chi2sf", "scipy.stats.chi2.sf"),
    }
    quasi_cases(ops["quasi"], 300)
    fsf_cases(ops["fsf"], 300)
    betai_cases(ops["betai"], 200)
    betai_hp_cases(ops["betai-hp"], 60)
    fsf_hp_cases(ops["fsf-hp"], 60)
    betaq_cases(ops["betaq"], 200)
    tq_cases(ops["tq"], 200)
    tq_closed_cases(ops["tq-closed"], 60)
    holm_cases(ops["holm"], 100)
    cp_cases(ops["cp"], 200)
    effect_cases(ops["effect"], 200)
    ffh_cases(ops["ffh"], 150)
    chi2_cases(ops["ffh-chi2"], 60)
    mc_cases(ops["ffh-mc"])
    chi2sf_cases(ops["chi2sf"], 200)
    got = run_ref(ops.values())

    fields = {
        "quasi": [("p", REL_FLOOR), ("x2", MIX_FLOOR), ("f", MIX_FLOOR), ("phi", REL_FLOOR),
                  ("phi_raw", MIX_FLOOR), ("df1", None), ("df2", None), ("k", None),
                  ("boots_a", None), ("boots_b", None)],
        "fsf": [("sf", REL_FLOOR)],
        "fsf-hp": [("sf", REL_FLOOR)],
        "betai": [("i", REL_FLOOR)],
        "betai-hp": [("i", REL_FLOOR)],
        "betaq": [("x", REL_FLOOR)],
        "tq": [("q", MIX_FLOOR)],
        "tq-closed": [("q", MIX_FLOOR)],
        "cp": [("lo", REL_FLOOR), ("hi", REL_FLOOR)],
        "ffh": [("p", REL_FLOOR), ("test", None)],
        "ffh-chi2": [("p", REL_FLOOR), ("x2", MIX_FLOOR), ("test", None)],
        "ffh-mc": [("test", None)],
        "chi2sf": [("sf", REL_FLOOR)],
        "effect": [("col", None), ("pa", MIX_FLOOR), ("pb", MIX_FLOOR), ("diff", MIX_FLOOR),
                   ("lo", MIX_FLOOR), ("hi", MIX_FLOOR)],
    }
    glm = [0, 0]
    for name, op in ops.items():
        for i, ref in enumerate(op.refs):
            g = got.get(f"{name}:{i}", {"error": "missing"})
            if name == "holm":
                adj = g.get("adj") or []
                for j, r in enumerate(ref["adj"]):
                    op.compare(i, {"v": adj[j] if j < len(adj) else None}, {"v": r},
                               [("v", REL_FLOOR)])
                continue
            op.compare(i, g, ref, fields[name])
            if name == "quasi" and ref.get("_how") == "glm":
                # the reference's own consistency: the Pearson sum is the GLM scale
                glm[0] += 1
                glm[1] = max(glm[1], err(ref["_phi_np"], ref["phi_raw"], MIX_FLOOR))
    # Monte Carlo: within 5 standard errors of the exact p (and its 1/(S+1) floor)
    mc = ops["ffh-mc"]
    worst_z = 0.0
    for i, ref in enumerate(mc.refs):
        g = got.get(f"ffh-mc:{i}", {})
        p, s = ref["p"], 200000
        se = math.sqrt(max(p * (1 - p), 1 / s) / s)
        z = abs((g.get("p") or math.inf) - p) / se
        worst_z = max(worst_z, z)
        if z > 5 + 1 / (s * se):
            mc.failures.append((mc.cases[i], g, ref, "p", z))
    print(f"  ffh-mc: sampled p within {worst_z:.2f} standard errors of the exact one at worst")
    # The chi-square's distance from the exact test where the chi-square takes over
    for a, b in (([1000000, 1000000], [1000000, 1003000]), ([1000000, 1000000], [999999, 1003000]),
                 ([1 << 30, 1 << 30], [1 << 30, (1 << 30) + 100000])):
        x2p = float(stats.chi2_contingency([a, b], correction=False)[1])
        ex = ffh_ref(a, b)
        print(f"  switch-over {a} {b}: exact {ex:.10g}, chi-square {x2p:.10g} "
              f"(relative {abs(x2p - ex) / ex:.2g})")
        check(f"chi-square within 1% of the exact p at {a} {b}", abs(x2p - ex) <= 0.01 * ex,
              (ex, x2p))
    for name, op in ops.items():
        w = op.worst
        print(f"  {name:9s} {len(op.cases):4d} cases vs {op.ref_name}: max relative error "
              f"{op.max_err:.3g}" + (f" ({w[1]} of {json.dumps(w[0])[:120]})" if w else "")
              + (f"; {len(op.notes)} where scipy's inverse is off, checked by round trip"
                 if op.notes else ""))
        for case, field, g, r in op.notes[:3]:
            print(f"          round trip: {json.dumps(case)[:100]} {field} = {g!r} (scipy {r!r})")
        detail = "; ".join(f"{json.dumps(c)[:200]} -> {fl}: got {json.dumps(g)[:300]}, "
                           f"expected {json.dumps({k: v for k, v in r.items() if not k.startswith('_')})[:300]} "
                           f"(error {e:.3g})" for c, g, r, fl, e in op.failures[:3])
        check(f"{name}: {len(op.cases)} cases agree with {op.ref_name} to {op.tol:g}",
              len(op.cases) > 0 and not op.failures, f"{len(op.failures)} values disagree: {detail}")
    raw = [err(got.get(f"tq:{i}", {}).get("q"), r["_raw"], MIX_FLOOR)
           for i, r in enumerate(ops["tq"].refs) if "_raw" in r]
    print(f"  tq: unpolished scipy.stats.t.ppf differs from stats_t_quantile by up to "
          f"{max(raw, default=math.nan):.3g} (relative)")
    print(f"  quasi phi_raw: GLM scale = Pearson sum in {glm[0]} k'=2 cases, max relative "
          f"difference {glm[1]:.3g}")
    check("reference self-consistency: GLM scale equals the Pearson sum", glm[0] > 20
          and glm[1] <= REL, glm)
    errors = sum("error" in r for r in ops["quasi"].refs)
    check("quasi cases include errors, k'<2, phi_raw < 1 and tiny p",
          errors >= 4 and any(r.get("k") == 1 for r in ops["quasi"].refs)
          and any(r.get("phi_raw", 2) < 1 for r in ops["quasi"].refs)
          and any(0 < r.get("p", 1) < 1e-12 for r in ops["quasi"].refs),
          f"{errors} errors")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
