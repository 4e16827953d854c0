/* SPDX-License-Identifier: MIT */
/*
 * Statistics for the diff: the Fisher-Freeman-Halton exact test of two
 * histograms (a 2×k contingency table), with Pearson's chi-square for large
 * tables whose expected counts are all large and a Monte Carlo estimate for
 * the other tables too many to enumerate; a quasi-likelihood F test for
 * histograms whose repetitions come in boots; the effect with an interval,
 * Holm's adjustment, Clopper-Pearson intervals, and the distribution
 * functions they need (incomplete beta and gamma, F and chi-square tails,
 * beta, t and normal quantiles).
 *
 * Given the margins, a table is fixed by its first row x (x_j <= c_j, sum na)
 * and has probability prod_j C(c_j, x_j) / C(N, na) (multivariate
 * hypergeometric); everything is summed in log space, from log-factorials
 * for small N and from Loader's binomial terms for large N.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"

double stats_count_tables(const long *col, size_t k, long na)
{
	double *ways = xcalloc((size_t)na + 1, sizeof(*ways));
	double *next = xcalloc((size_t)na + 1, sizeof(*next));
	double total, *t;
	size_t j;
	long s;

	ways[0] = 1;
	for (j = 0; j < k; j++) {
		double run = 0;

		/* next[s] = sum of ways[s - x] for x in 0..col[j]: a sliding window. */
		for (s = 0; s <= na; s++) {
			run += ways[s];
			if (s - col[j] - 1 >= 0)
				run -= ways[s - col[j] - 1];
			next[s] = run;
		}
		t = ways;
		ways = next;
		next = t;
	}
	total = ways[na];
	free(ways);
	free(next);
	return total;
}

/*
 * The special functions.
 *
 * I_x(a, b) = x^a (1-x)^b / (a B(a, b)) * cf(a, b, x) with the continued
 * fraction of Numerical Recipes' betacf, evaluated by the modified Lentz
 * method; it converges fast for x < (a+1)/(a+b+2), and the other side uses
 * I_x(a, b) = 1 - I_{1-x}(b, a). Every function below carries x and y = 1 - x
 * separately, so that a complement near 0 (the F tail at a small statistic,
 * the t quantile near the median) is never formed by cancellation.
 */

/* Relative change of the continued fraction below which it has converged. */
#define CF_EPS		(4 * DBL_EPSILON)
/* Floor of Lentz's denominators (keeps them away from 0). */
#define CF_TINY		1e-300
/* Enough for a, b up to 1e9 (the fraction needs O(sqrt(max(a, b))) terms). */
#define CF_MAXIT	100000
/* Newton's method in the beta inverse: iterations, and the relative step at
 * which it has converged (the next step would be far below DBL_EPSILON). */
#define INV_MAXIT	300
#define INV_TOL		1e-14
/* The t quantile comes from its expansion in 1/df when df > T_EXPANSION_DF
 * and df > T_EXPANSION_Z2 z² (z the normal quantile): there the terms left
 * out are below 1e-15 relative (they go as (z²/df)^5), and the beta route,
 * at a = df/2 large, would lose digits to the rounding of 1 - x. */
#define T_EXPANSION_DF	1000
#define T_EXPANSION_Z2	200
#define LOG_2PI		1.8378770664093454836

/* log(1 + w) - w, without cancellation for small w. */
static double log1pmx(double w)
{
	double term, sum = 0, pw = w;
	int n;

	if (fabs(w) >= 0.1)
		return log1p(w) - w;
	/* -w^2/2 + w^3/3 - ...: |w| < 0.1, so 20 terms reach 1e-20. */
	for (n = 2; n < 40; n++) {
		pw *= -w;
		term = pw / n;
		sum += term;
		if (fabs(term) <= DBL_EPSILON * 1e-2 * fabs(sum))
			break;
	}
	return sum;
}

/*
 * Stirling's correction mu(z) = lgamma(z) - ((z - 1/2) log z - z + log(2 pi)/2):
 * small, so differences of it lose nothing (unlike differences of lgamma).
 */
static double stirling_mu(double z)
{
	/* B_2n / (2n (2n - 1)) for n = 1..8 */
	static const double c[] = {
		1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188,
		-691.0 / 360360, 1.0 / 156, -3617.0 / 122400,
	};
	double z2, zp, sum = 0;
	size_t i;

	if (z < 10)
		return lgamma(z) - ((z - 0.5) * log(z) - z + 0.5 * LOG_2PI);
	/* The last term used is below 3.6e-17 at z = 10. */
	z2 = 1 / (z * z);
	zp = 1 / z;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		sum += c[i] * zp;
		zp *= z2;
	}
	return sum;
}

/* One of the two logarithms of beta_front(): a log(1 + w) - a w, where
 * 1 + w = z is also given directly (accurate when w is near -1). */
static double front_term(double a, double w, double z)
{
	if (w < -0.5)
		return a * (log(z) - w);
	return a * log1pmx(w);
}

/*
 * x^a y^b / B(a, b), y = 1 - x. With Gamma(z) = sqrt(2 pi) z^(z-1/2) e^-z e^mu(z):
 *   = sqrt(ab / (2 pi (a+b))) (x(a+b)/a)^a (y(a+b)/b)^b e^(mu(a+b) - mu(a) - mu(b)),
 * and with t = xb - ya, x(a+b)/a = 1 + t/a and y(a+b)/b = 1 - t/b, so the
 * logarithms of the middle factors sum to a (log(1+u) - u) + b (log(1+v) - v)
 * with u = t/a, v = -t/b (a u + b v = 0): no large terms cancel.
 */
static double beta_front(double a, double b, double x, double y)
{
	double t, e;

	if (x <= 0 || y <= 0)
		return 0;
	t = x * b - y * a;
	e = front_term(a, t / a, x * (a + b) / a) + front_term(b, -t / b, y * (a + b) / b);
	e += stirling_mu(a + b) - stirling_mu(a) - stirling_mu(b);
	e += 0.5 * (log(a) + log(b) - log(a + b) - LOG_2PI);
	return exp(e);
}

/* Away from zero by at least CF_TINY (the modified Lentz method's guard). */
static double cf_guard(double v)
{
	return fabs(v) < CF_TINY ? CF_TINY : v;
}

/* One modified-Lentz step with numerator @aa: updates *c and *d, returns the factor. */
static double lentz_step(double aa, double *c, double *d)
{
	*d = 1 / cf_guard(1 + aa * *d);
	*c = cf_guard(1 + aa / *c);
	return *d * *c;
}

/* The continued fraction of I_x(a, b) (Numerical Recipes' betacf). */
static double beta_cf(double a, double b, double x)
{
	double c = 1, d, h, del, m2;
	int m;

	d = 1 / cf_guard(1 - (a + b) * x / (a + 1));
	h = d;
	for (m = 1; m <= CF_MAXIT; m++) {
		m2 = 2.0 * m;
		/* The even step, then the odd one. */
		h *= lentz_step(m * (b - m) * x / ((a - 1 + m2) * (a + m2)), &c, &d);
		del = lentz_step(-(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2)), &c, &d);
		h *= del;
		if (fabs(del - 1) < CF_EPS)
			break;
	}
	return h;
}

/* *ix = I_x(a, b) and *iy = 1 - *ix = I_y(b, a), for x + y = 1, both accurate. */
static void betai2(double a, double b, double x, double y, double *ix, double *iy)
{
	double v;

	if (x <= 0) {
		*ix = 0;
		*iy = 1;
		return;
	}
	if (y <= 0) {
		*ix = 1;
		*iy = 0;
		return;
	}
	if (x < (a + 1) / (a + b + 2)) {
		v = beta_front(a, b, x, y) * beta_cf(a, b, x) / a;
		*ix = v > 1 ? 1 : v;
		*iy = 1 - *ix;
	} else {
		v = beta_front(b, a, y, x) * beta_cf(b, a, y) / b;
		*iy = v > 1 ? 1 : v;
		*ix = 1 - *iy;
	}
}

double stats_betai(double a, double b, double x)
{
	double ix, iy;

	if (!(a > 0 && b > 0 && x >= 0 && x <= 1) || isinf(a) || isinf(b))
		return NAN;
	betai2(a, b, x, 1 - x, &ix, &iy);
	return ix;
}

double stats_f_sf(double x, double d1, double d2)
{
	double s, ix, iy;

	if (isnan(x) || !(d1 > 0 && d2 > 0) || isinf(d1) || isinf(d2))
		return NAN;
	if (x <= 0)
		return 1;
	s = d2 + d1 * x;
	if (isinf(s))
		return 0;
	/* P(F > x) = I_w(d2/2, d1/2) with w = d2/s and 1 - w = d1 x/s. */
	betai2(d2 / 2, d1 / 2, d2 / s, d1 * x / s, &ix, &iy);
	return ix;
}

/*
 * A first guess at the x with I_x(a, b) = p (Numerical Recipes 3, invbetai;
 * q = 1 - p): a normal approximation for a, b >= 1, else the power laws of
 * the two ends. Only a start: the caller brackets and refines it.
 */
static double beta_inv_guess(double p, double q, double a, double b)
{
	double pp, t, x, al, h, w, u;

	if (a >= 1 && b >= 1) {
		pp = p < q ? p : q;
		t = sqrt(-2 * log(pp));
		x = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t;
		if (p < q)
			x = -x;
		al = (x * x - 3) / 6;
		h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1));
		w = x * sqrt(al + h) / h -
		    (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (al + 5.0 / 6 - 2 / (3 * h));
		return a / (a + b * exp(2 * w));
	}
	t = exp(a * log(a / (a + b))) / a;
	u = exp(b * log(b / (a + b))) / b;
	w = t + u;
	if (p < t / w)
		return pow(a * w * p, 1 / a);
	return 1 - pow(b * w * q, 1 / b);
}

/*
 * The root r in (0, 1/2] of I_r(a, b) = p (q = 1 - p), known to be there.
 * Compares the smaller of the two tails so that neither p near 0 nor p near
 * 1 loses digits; Newton steps that leave the bracket become bisections
 * (geometric while the bracket spans orders of magnitude, so tiny roots are
 * reached quickly).
 */
static double beta_inv_low(double p, double q, double a, double b)
{
	double lo = 0, hi = 0.5, x, xn, g, ix, iy, dens;
	int lower = p <= q, it;

	x = beta_inv_guess(p, q, a, b);
	if (!(x > 0 && x < 0.5))
		x = 0.25;
	for (it = 0; it < INV_MAXIT; it++) {
		betai2(a, b, x, 1 - x, &ix, &iy);
		g = lower ? ix - p : q - iy;	/* increasing in x */
		if (g == 0)
			return x;
		if (g < 0)
			lo = x;
		else
			hi = x;
		dens = beta_front(a, b, x, 1 - x) / (x * (1 - x));
		xn = x - g / dens;
		if (!(xn > lo && xn < hi)) {
			if (lo == 0)
				xn = hi / 16;
			else if (hi > 4 * lo)
				xn = sqrt(lo * hi);
			else
				xn = lo + (hi - lo) / 2;
		} else if (fabs(xn - x) <= INV_TOL * xn) {
			return xn;
		}
		if (hi - lo <= 2 * DBL_EPSILON * hi)
			return xn;
		x = xn;
	}
	return x;
}

/* *x with I_x(a, b) = p, and *y = 1 - *x, both accurate (q = 1 - p). */
static void beta_inv(double p, double q, double a, double b, double *x, double *y)
{
	double i5, c5;

	if (p <= 0) {
		*x = 0;
		*y = 1;
		return;
	}
	if (q <= 0) {
		*x = 1;
		*y = 0;
		return;
	}
	betai2(a, b, 0.5, 0.5, &i5, &c5);
	if (p <= i5) {
		*x = beta_inv_low(p, q, a, b);
		*y = 1 - *x;
	} else {
		/* I_x(a, b) = p is I_y(b, a) = q, with y < 1/2. */
		*y = beta_inv_low(q, p, b, a);
		*x = 1 - *y;
	}
}

double stats_beta_quantile(double p, double a, double b)
{
	double x, y;

	if (!(a > 0 && b > 0 && p >= 0 && p <= 1) || isinf(a) || isinf(b))
		return NAN;
	beta_inv(p, 1 - p, a, b, &x, &y);
	return x;
}

double stats_normal_quantile(double p)
{
	double r, t, x, e, u, dx;
	int i;

	if (!(p >= 0 && p <= 1))
		return NAN;
	if (p == 0)
		return -INFINITY;
	if (p == 1)
		return INFINITY;
	if (p == 0.5)
		return 0;
	/* x > 0 with upper tail Q(x) = r, then the sign. */
	r = p < 0.5 ? p : 1 - p;
	t = sqrt(-2 * log(r));
	x = t - (2.515517 + t * (0.802853 + t * 0.010328)) /
		(1 + t * (1.432788 + t * (0.189269 + t * 0.001308)));
	for (i = 0; i < 8; i++) {
		/* Halley on f(x) = Q(x) - r: f' = -phi(x), f'' = x phi(x). */
		e = 0.5 * erfc(x / M_SQRT2) - r;
		if (e == 0)
			break;
		u = copysign(exp(log(fabs(e)) + 0.5 * x * x + 0.5 * LOG_2PI), e);
		dx = u / (1 - x * u / 2);
		x += dx;
		if (fabs(dx) <= DBL_EPSILON * fabs(x))
			break;
	}
	return p < 0.5 ? -x : x;
}

/* The t quantile for large df from the normal one, z: Cornish-Fisher
 * (Abramowitz-Stegun 26.7.5) to 1/df^4. */
static double t_expansion(double z, double df)
{
	double z2 = z * z;
	double g1 = (z2 + 1) * z / 4;
	double g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
	double g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
	double g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;

	return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
}

double stats_t_quantile(double p, double df)
{
	double tail, alpha, x, y, t, z;

	if (!(p >= 0 && p <= 1) || !(df > 0))
		return NAN;
	if (isinf(df))
		return stats_normal_quantile(p);
	if (p == 0)
		return -INFINITY;
	if (p == 1)
		return INFINITY;
	if (p == 0.5)
		return 0;
	if (df > T_EXPANSION_DF) {
		z = stats_normal_quantile(p);
		if (df > T_EXPANSION_Z2 * z * z)
			return t_expansion(z, df);
	}
	/* P(|T| > t) = I_x(df/2, 1/2) with x = df/(df+t^2), 1 - x = t^2/(df+t^2). */
	tail = p < 0.5 ? p : 1 - p;
	alpha = 2 * tail;
	beta_inv(alpha, 1 - alpha, df / 2, 0.5, &x, &y);
	if (x >= DBL_MIN) {
		t = sqrt(df) * sqrt(y / x);
	} else {
		/* x underflows, t > 1e154 sqrt(df): the tail is its power law
		 * Gamma((df+1)/2) / (sqrt(pi) Gamma(df/2)) df^(df/2-1) t^-df
		 * (the next term is t^-2 smaller). */
		t = exp((lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * log(M_PI) +
			 (df / 2 - 1) * log(df) - log(tail)) / df);
	}
	return p < 0.5 ? -t : t;
}

/*
 * The exact test and its large-sample forms.
 */

/* Relative tolerance for "no more probable than the observed table". */
#define TIE_TOLERANCE	1e-7

struct ffh {
	const long *col;	/* column sums of the kept columns */
	const long *tail;	/* tail[j] = sum of col[j..k-1] */
	size_t k;
	const double *lf;	/* lf[n] = log(n!), up to N <= STATS_TABLE_MAX_N; else NULL */
	double pa, pb;		/* na / N and nb / N (Loader's terms, when lf is NULL) */
	double base;		/* log-probability of a table, less its columns' terms */
	double limit;		/* log-probability of the observed table, plus tolerance */
	double p;
	double tables;
};

static double *log_factorials(long n)
{
	double *lf = xcalloc((size_t)n + 1, sizeof(*lf));
	long i;

	for (i = 1; i <= n; i++)
		lf[i] = lf[i - 1] + log((double)i);
	return lf;
}

/*
 * Loader's saddle-point form of the binomial probability ("Fast and accurate
 * computation of binomial probabilities", 2000; R's dbinom_raw): with
 * stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n) (stirling_mu(n)) and
 * bd0(x, m) = x log(x/m) + m - x, every term is small where the probability
 * is not, so nothing large cancels: the log-probability keeps an absolute
 * accuracy of a few ulps of itself at any n, where log-factorials (n log n
 * large) would lose eps n log n to cancellation.
 */
static double bd0(double x, double m)
{
	double v, s, ej, s1;
	int j;

	if (fabs(x - m) < 0.1 * (x + m)) {
		/* The series in v = (x - m)/(x + m): 2x (v^3/3 + v^5/5 + ...) + (x - m) v. */
		v = (x - m) / (x + m);
		s = (x - m) * v;
		ej = 2 * x * v;
		v *= v;
		for (j = 1; j < 1000; j++) {
			ej *= v;
			s1 = s + ej / (2 * j + 1);
			if (s1 == s)
				break;
			s = s1;
		}
		return s;
	}
	return x * log(x / m) + m - x;
}

/* log(C(n, x) p^x q^(n-x)), for 0 <= x <= n, p + q = 1 (both given, both accurate). */
static double log_dbinom(long x, long n, double p, double q)
{
	double dx = (double)x, dn = (double)n;

	if (n == 0)
		return 0;
	if (x == 0)
		return p < 0.1 ? -bd0(dn, dn * q) - dn * p : dn * log(q);
	if (x == n)
		return q < 0.1 ? -bd0(dn, dn * p) - dn * q : dn * log(p);
	return stirling_mu(dn) - stirling_mu(dx) - stirling_mu(dn - dx) - bd0(dx, dn * p) -
	       bd0(dn - dx, dn * q) - 0.5 * (LOG_2PI + log(dx) + log1p(-dx / dn));
}

/*
 * A column's share of a table's log-probability, negated: log(x! (c - x)!)
 * from the table, or -log(C(c, x) pa^x pb^(c-x)) (the pa^na pb^nb that the
 * columns' terms multiply to is divided out again in w->base).
 */
static double ffh_pair(const struct ffh *w, long x, long c)
{
	if (w->lf)
		return w->lf[x] + w->lf[c - x];
	return -log_dbinom(x, c, w->pa, w->pb);
}

/* Enumerate column @j onwards with @left still to place in row a. */
static void ffh_walk(struct ffh *w, size_t j, long left, double logp)
{
	long lo, hi, x, c = w->col[j];

	if (j == w->k - 1) {
		/* The last column takes what is left (the caller keeps it feasible). */
		logp -= ffh_pair(w, left, c);
		w->tables++;
		if (logp <= w->limit)
			w->p += exp(w->base + logp);
		return;
	}
	lo = left - w->tail[j + 1];
	if (lo < 0)
		lo = 0;
	hi = left < c ? left : c;
	for (x = lo; x <= hi; x++)
		ffh_walk(w, j + 1, left - x,
			 w->lf ? logp - w->lf[x] - w->lf[c - x] : logp - ffh_pair(w, x, c));
}

/*
 * The tables ffh_walk() would visit from column @j with @left to place, or
 * more than @limit (counting stops there): every node of the walk leads to
 * a table, so this costs O(k @limit) at most, and no memory.
 */
static double ffh_count(const struct ffh *w, size_t j, long left, double limit)
{
	long lo, hi, x, c = w->col[j];
	double n = 0;

	lo = left - w->tail[j + 1];
	if (lo < 0)
		lo = 0;
	hi = left < c ? left : c;
	if (j + 2 == w->k)
		return (double)(hi - lo + 1);
	for (x = lo; x <= hi && n <= limit; x++)
		n += ffh_count(w, j + 1, left - x, limit - n);
	return n;
}
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform double in (0, 1] (never 0: it divides and takes logarithms). */
static double uniform01(uint64_t *s)
{
	return (double)((splitmix64(s) >> 11) + 1) * 0x1p-53;
}

/* Stadlober's ratio-of-uniforms constants: 2 sqrt(2/e) and 3 - 2 sqrt(3/e). */
#define ROU_D1		1.7155277699214135
#define ROU_D2		0.8989161620588988

/*
 * A draw from Hypergeometric(@good, @bad, @n): how many of @n items taken
 * without replacement from @good + @bad are good. Ratio of uniforms with
 * Stadlober's table-mountain hat (E. Stadlober, "The ratio of uniforms
 * approach for generating discrete random variates", J. Comput. Appl. Math.
 * 31, 1990): X = mu + 1/2 + s (V - 1/2) / U, s = D1 sqrt(var + 1/2) + D2,
 * accepted when U² <= f(floor X) / f(mode). The hat covers every log-concave
 * distribution (the hypergeometric is one) with a bounded expected number of
 * tries, so a draw costs O(1) whatever the counts; f's ratio comes from
 * log_dbinom(), accurate at any size.
 */
static long hypergeometric(uint64_t *s, long good, long bad, long n)
{
	long total = good + bad, lo = n - bad > 0 ? n - bad : 0, hi = n < good ? n : good;
	long mode, z;
	double p, q, mu, var, a, h, fm, u, x;

	if (lo >= hi)
		return lo;
	/* C(good, z) C(bad, n - z) as binomial terms at p = n / total, both near their modes. */
	p = (double)n / (double)total;
	q = (double)(total - n) / (double)total;
	mode = (long)((__int128)(n + 1) * (good + 1) / (total + 2));
	mode = mode < lo ? lo : mode > hi ? hi : mode;
	mu = (double)good * p;
	var = mu * ((double)bad / (double)total) * ((double)(total - n) / (double)(total - 1));
	a = mu + 0.5;
	h = ROU_D1 * sqrt(var + 0.5) + ROU_D2;
	fm = log_dbinom(mode, good, p, q) + log_dbinom(n - mode, bad, p, q);
	for (;;) {
		u = uniform01(s);
		x = a + h * (uniform01(s) - 0.5) / u;
		if (x < (double)lo || x >= (double)hi + 1)
			continue;
		z = (long)floor(x);
		if (2 * log(u) <= log_dbinom(z, good, p, q) + log_dbinom(n - z, bad, p, q) - fm)
			return z;
	}
}

/*
 * Estimate the FFH p-value by drawing random tables with the same margins:
 * row a column by column, x_j ~ Hypergeometric(c_j, c_j+1 + ... + c_k, what
 * is left of na), the last column taking the rest (the multivariate
 * hypergeometric, drawn in O(k) a table).
 */
static double ffh_sample(const struct ffh *w, long na)
{
	long *x = xcalloc(w->k, sizeof(*x));
	uint64_t seed = STATS_MC_SEED;
	long hits = 0, s, left;
	size_t j;

	for (s = 0; s < STATS_MC_SAMPLES; s++) {
		double logp = 0;

		left = na;
		for (j = 0; j + 1 < w->k; j++) {
			x[j] = hypergeometric(&seed, w->col[j], w->tail[j + 1], left);
			left -= x[j];
		}
		x[w->k - 1] = left;
		for (j = 0; j < w->k; j++)
			logp -= ffh_pair(w, x[j], w->col[j]);
		if (logp <= w->limit)
			hits++;
	}
	free(x);
	return (double)(hits + 1) / (STATS_MC_SAMPLES + 1.0);
}

/* Regularized upper incomplete gamma Q(a, x), a > 0, x >= 0. */
static double gamma_q(double a, double x)
{
	double front, sum, term, b, c, d, h, an, del;
	int n;

	if (x <= 0)
		return 1;
	front = exp(a * log(x) - x - lgamma(a));
	if (x < a + 1) {
		/* P(a, x) = x^a e^-x / Gamma(a) sum_n x^n / (a (a+1) ... (a+n)); Q >= 0.08 here. */
		sum = term = 1 / a;
		for (n = 1; n < CF_MAXIT; n++) {
			term *= x / (a + n);
			sum += term;
			if (term < sum * DBL_EPSILON)
				break;
		}
		return 1 - front * sum;
	}
	/* Q's continued fraction (Numerical Recipes' gcf), modified Lentz. */
	b = x + 1 - a;
	c = 1 / CF_TINY;
	d = 1 / b;
	h = d;
	for (n = 1; n < CF_MAXIT; n++) {
		an = -n * (n - a);
		b += 2;
		d = 1 / cf_guard(an * d + b);
		c = cf_guard(b + an / c);
		del = d * c;
		h *= del;
		if (fabs(del - 1) < CF_EPS)
			break;
	}
	return front * h;
}

double stats_chi2_sf(double x, double df)
{
	if (isnan(x) || !(df > 0) || isinf(df))
		return NAN;
	if (x <= 0)
		return 1;
	if (isinf(x))
		return 0;
	/* The closed forms of the 2×2 and 2×3 tables. */
	if (df == 1)
		return erfc(sqrt(x / 2));
	if (df == 2)
		return exp(-x / 2);
	return gamma_q(df / 2, x / 2);
}

/*
 * Pearson's X² of the 2×k table with rows @xa and @col - @xa: with
 * d_j = xa_j nb - na xb_j (exact in 128 bits), O - E = ±d_j / N, and
 * X² = sum_j d_j² / (na nb c_j).
 */
static double pearson_2xk(const long *xa, const long *col, size_t k, long na, long nb)
{
	double x2 = 0;
	size_t j;

	for (j = 0; j < k; j++) {
		double d = (double)((__int128)xa[j] * nb - (__int128)na * (col[j] - xa[j]));

		x2 += d * d / ((double)na * (double)nb * (double)col[j]);
	}
	return x2;
}

int stats_exact_2xk(const long *a, const long *b, size_t k, struct stats_result *r,
		    struct kf_error *e)
{
	return stats_ffh(a, b, k, STATS_MAX_TABLES, r, e);
}

int stats_ffh(const long *a, const long *b, size_t k, double max_tables,
	      struct stats_result *r, struct kf_error *e)
{
	long *col = NULL, *tail = NULL, *xa = NULL, na = 0, nb = 0, n, cmin;
	double *lf = NULL, obs = 0;
	struct ffh w;
	size_t j, kk = 0;
	int ret = -1;

	r->p = 1;
	r->test = STATS_FISHER;
	r->tables = 1;
	r->x2 = 0;
	r->df = 0;
	for (j = 0; j < k; j++) {
		if (a[j] < 0 || b[j] < 0) {
			error_set(e, "stats", 0, 0, "negative count in column %zu", j);
			goto cleanup;
		}
		if (a[j] > STATS_MAX_TOTAL - na || b[j] > STATS_MAX_TOTAL - nb ||
		    a[j] + b[j] > STATS_MAX_TOTAL - na - nb) {
			error_set(e, "stats", 0, 0, "counts too large (more than %ld in all)",
				  STATS_MAX_TOTAL);
			goto cleanup;
		}
		na += a[j];
		nb += b[j];
	}
	n = na + nb;

	col = xcalloc(k + 1, sizeof(*col));
	xa = xcalloc(k + 1, sizeof(*xa));
	for (j = 0; j < k; j++) {
		if (a[j] + b[j] == 0)
			continue;
		col[kk] = a[j] + b[j];
		xa[kk++] = a[j];
	}
	/* One column or an empty row: the observed table is the only one. */
	if (kk < 2 || na == 0 || nb == 0) {
		ret = 0;
		goto cleanup;
	}

	tail = xcalloc(kk + 1, sizeof(*tail));
	for (j = kk; j-- > 0;)
		tail[j] = tail[j + 1] + col[j];
	memset(&w, 0, sizeof(w));
	w.col = col;
	w.tail = tail;
	w.k = kk;
	if (n <= STATS_TABLE_MAX_N) {
		lf = log_factorials(n);
		w.lf = lf;
		w.base = lf[na] + lf[nb] - lf[n];
		for (j = 0; j < kk; j++)
			w.base += lf[col[j]];
	} else {
		/* prod_j C(c_j, x_j) pa^x_j pb^(c_j-x_j) / (C(N, na) pa^na pb^nb) */
		w.pa = (double)na / (double)n;
		w.pb = (double)nb / (double)n;
		w.base = -log_dbinom(na, n, w.pa, w.pb);
	}
	for (j = 0; j < kk; j++)
		obs -= ffh_pair(&w, xa[j], col[j]);
	w.limit = obs + TIE_TOLERANCE;

	r->tables = ffh_count(&w, 0, na, max_tables);
	if (r->tables <= max_tables) {
		ffh_walk(&w, 0, na, 0);
		r->p = w.p > 1 ? 1 : w.p;
		r->tables = w.tables;
		ret = 0;
		goto cleanup;
	}
	/* Every expected count na c_j / N and nb c_j / N at least the bound? */
	cmin = col[0];
	for (j = 1; j < kk; j++)
		cmin = col[j] < cmin ? col[j] : cmin;
	if (n > STATS_TABLE_MAX_N &&
	    (__int128)(na < nb ? na : nb) * cmin >= (__int128)STATS_CHI2_MIN_EXPECTED * n) {
		r->test = STATS_CHI_SQUARE;
		r->x2 = pearson_2xk(xa, col, kk, na, nb);
		r->df = (double)(kk - 1);
		r->p = stats_chi2_sf(r->x2, r->df);
		r->tables = 0;
	} else {
		r->test = STATS_MONTE_CARLO;
		r->p = ffh_sample(&w, na);
		r->tables = STATS_MC_SAMPLES;
	}
	ret = 0;

cleanup:
	free(col);
	free(tail);
	free(xa);
	free(lf);
	return ret;
}

/*
 * The quasi-likelihood F test.
 *
 * Why. The repetitions of one boot share that boot's host conditions (load,
 * timer placement, the luck of early scheduling), so they are not independent
 * draws: a histogram of 40 boots × 50 repetitions holds far less information
 * than 2000 independent ones, and an exact or chi-square test that counts
 * repetitions calls every boot-to-boot wobble a change. The boot is the unit.
 *
 * Model. Boot j of side g with n_gj repetitions gives counts x_gj with mean
 * n_gj pi_g and covariance phi n_gj (diag(pi_g) - pi_g pi_g^T): the
 * multinomial one inflated by a dispersion phi (as a Dirichlet-multinomial
 * does, phi = 1 + (n - 1) rho for an intra-boot correlation rho; taken as one
 * phi for both sides, every outcome and every boot size). Under H0: pi_a = pi_b.
 *
 * Test. The pooled Pearson X² of the 2×k' table then has expectation about
 * phi (k' - 1) instead of k' - 1: Rao and Scott's first-order correction
 * divides it by the design effect, here phi. phi is estimated, as in
 * quasi-likelihood GLMs (McCullagh and Nelder, ch. 9), from the Pearson
 * statistic of every boot against its own side's pooled proportions, over
 * its degrees of freedom: B boots × (k' - 1) free proportions, less the
 * 2 (k' - 1) fitted. Since phi is estimated, X²/(k'-1)/phi is referred to
 * F(k' - 1, (B - 2)(k' - 1)), not to chi²/(k'-1): with few boots the test is
 * rightly more cautious. For k' = 2 phi_raw is exactly the binomial GLM's
 * Pearson scale (intercept and side indicator).
 *
 * phi >= 1. Boots cannot honestly agree better than independent draws: an
 * estimate below 1 is chance (few boots) or the same histogram repeated by
 * construction, and dividing by it would inflate X² beyond the independent
 * test. So phi = max(1, phi_raw); with phi = 1 the test is still a little
 * more conservative than the plain chi-square (the F reference's heavier
 * tail), which is the price of not knowing phi.
 *
 * Limits. It is an approximation: it wants the boots independent and, within
 * a side, exchangeable, a few repetitions expected per outcome, and at least
 * STATS_QUASI_MIN_BOOTS boots (below that the caller uses the exact test).
 *
 * Residuals are formed in 128-bit integers (x N_g - n T_gc, with N_g and
 * T_gc the side's totals), so neither X² nor phi_raw suffers cancellation.
 */
int stats_quasi_test(const long *a, size_t boots_a, const long *b, size_t boots_b,
		     size_t k, struct stats_quasi *r, struct kf_error *e)
{
	const long *side[2] = { a, b };
	size_t boots[2] = { boots_a, boots_b }, nonempty[2] = { 0, 0 };
	long *tot[2] = { NULL, NULL }, total = 0, n[2] = { 0, 0 };
	double num = 0;
	size_t g, j, c, kk = 0, nb;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->p = 1;
	r->phi = 1;
	r->phi_raw = 1;
	tot[0] = xcalloc(k + 1, sizeof(long));
	tot[1] = xcalloc(k + 1, sizeof(long));
	for (g = 0; g < 2; g++) {
		for (j = 0; j < boots[g]; j++) {
			long row = 0;

			for (c = 0; c < k; c++) {
				long x = side[g][j * k + c];

				if (x < 0) {
					error_set(e, "stats", 0, 0,
						  "negative count in boot %zu of side %c, column %zu",
						  j, "ab"[g], c);
					goto cleanup;
				}
				if (x > STATS_MAX_TOTAL - total) {
					error_set(e, "stats", 0, 0, "counts too large");
					goto cleanup;
				}
				total += x;
				row += x;
				tot[g][c] += x;
			}
			n[g] += row;
			if (row > 0)
				nonempty[g]++;
		}
	}
	r->boots_a = nonempty[0];
	r->boots_b = nonempty[1];
	nb = nonempty[0] + nonempty[1];
	if (!nonempty[0] || !nonempty[1]) {
		error_set(e, "stats", 0, 0, "side %c has no nonempty boot",
			  nonempty[0] ? 'b' : 'a');
		goto cleanup;
	}
	if (nb < STATS_QUASI_MIN_BOOTS) {
		error_set(e, "stats", 0, 0, "%zu nonempty boots, the quasi test needs %d",
			  nb, STATS_QUASI_MIN_BOOTS);
		goto cleanup;
	}
	for (c = 0; c < k; c++)
		kk += tot[0][c] + tot[1][c] > 0;
	r->k = kk;
	ret = 0;
	if (kk < 2)
		goto cleanup;

	/* Pooled X²: O - E = (T_ac N_b - N_a T_bc) / N on row a, the opposite on
	 * row b, so X² = sum_c d_c² / (N_a N_b C_c). */
	for (c = 0; c < k; c++) {
		long col = tot[0][c] + tot[1][c];
		double d;

		if (col == 0)
			continue;
		d = (double)((__int128)tot[0][c] * n[1] - (__int128)n[0] * tot[1][c]);
		r->x2 += d * d / ((double)n[0] * (double)n[1] * (double)col);
	}

	/* Between-boot Pearson statistic: (x - n pi)² / (n pi), pi = T/N_g. */
	for (g = 0; g < 2; g++) {
		for (j = 0; j < boots[g]; j++) {
			const long *row = side[g] + j * k;
			long nj = 0;

			for (c = 0; c < k; c++)
				nj += row[c];
			if (nj == 0)
				continue;
			for (c = 0; c < k; c++) {
				double d;

				if (tot[g][c] == 0)
					continue;
				d = (double)((__int128)row[c] * n[g] - (__int128)nj * tot[g][c]);
				num += d * d / ((double)n[g] * (double)nj * (double)tot[g][c]);
			}
		}
	}
	r->df1 = (double)(kk - 1);
	r->df2 = (double)((nb - 2) * (kk - 1));
	r->phi_raw = num / r->df2;
	r->phi = r->phi_raw > 1 ? r->phi_raw : 1;
	r->f = r->x2 / r->df1 / r->phi;
	r->p = stats_f_sf(r->f, r->df1, r->df2);

cleanup:
	free(tot[0]);
	free(tot[1]);
	return ret;
}

int stats_effect(const long *ta, const long *tb, size_t k, double phi, double df,
		 double level, struct stats_effect *r)
{
	long na = 0, nb = 0;
	__int128 best = -1;
	double pta, ptb, se, q;
	size_t c;

	memset(r, 0, sizeof(*r));
	if (!(phi > 0) || isinf(phi) || !(level > 0 && level < 1) || !(df >= 0))
		return -1;
	for (c = 0; c < k; c++) {
		if (ta[c] < 0 || tb[c] < 0 || ta[c] > STATS_MAX_TOTAL - na ||
		    tb[c] > STATS_MAX_TOTAL - nb)
			return -1;
		na += ta[c];
		nb += tb[c];
	}
	if (na == 0 || nb == 0)
		return -1;
	/* |tb/nb - ta/na| ranks as |tb na - ta nb|: exact, so ties are ties. */
	for (c = 0; c < k; c++) {
		__int128 d = (__int128)tb[c] * na - (__int128)ta[c] * nb;

		if (d < 0)
			d = -d;
		if (d > best) {
			best = d;
			r->col = c;
		}
	}
	r->pa = (double)ta[r->col] / (double)na;
	r->pb = (double)tb[r->col] / (double)nb;
	r->diff = r->pb - r->pa;

	pta = (ta[r->col] + 1.0) / (na + 2.0);
	ptb = (tb[r->col] + 1.0) / (nb + 2.0);
	se = sqrt(phi * (pta * (1 - pta) / (na + 2.0) + ptb * (1 - ptb) / (nb + 2.0)));
	q = df == 0 || isinf(df) ? stats_normal_quantile((1 + level) / 2)
				  : stats_t_quantile((1 + level) / 2, df);
	r->lo = ptb - pta - q * se;
	r->hi = ptb - pta + q * se;
	if (r->lo < -1)
		r->lo = -1;
	if (r->hi > 1)
		r->hi = 1;
	return 0;
}

struct holm_item {
	double p;
	size_t i;
};

/* Ascending p (NaN last), then input order: a total order for qsort. */
static int holm_cmp(const void *x, const void *y)
{
	const struct holm_item *u = x, *v = y;
	int nu = isnan(u->p), nv = isnan(v->p);

	if (nu != nv)
		return nu - nv;
	if (!nu && u->p != v->p)
		return u->p < v->p ? -1 : 1;
	return (u->i > v->i) - (u->i < v->i);
}

void stats_holm(const double *p, size_t m, double *adj)
{
	struct holm_item *s;
	double run = 0, v;
	size_t j;

	if (m == 0)
		return;
	s = xcalloc(m, sizeof(*s));
	for (j = 0; j < m; j++) {
		s[j].p = p[j];
		s[j].i = j;
	}
	qsort(s, m, sizeof(*s), holm_cmp);
	for (j = 0; j < m; j++) {
		if (isnan(s[j].p)) {
			adj[s[j].i] = NAN;
			continue;
		}
		v = (double)(m - j) * s[j].p;
		if (v > 1)
			v = 1;
		if (v > run)
			run = v;
		adj[s[j].i] = run;
	}
	free(s);
}

void stats_clopper_pearson(long x, long n, double level, double *lo, double *hi)
{
	double a2, y;

	if (n < 0 || x < 0 || x > n || !(level > 0 && level < 1)) {
		*lo = NAN;
		*hi = NAN;
		return;
	}
	a2 = (1 - level) / 2;
	*lo = 0;
	*hi = 1;
	if (x > 0)
		beta_inv(a2, 1 - a2, (double)x, (double)(n - x + 1), lo, &y);
	if (x < n)
		beta_inv(1 - a2, a2, (double)(x + 1), (double)(n - x), hi, &y);
}
