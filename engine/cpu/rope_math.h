// The few transcendental functions RoPE needs (its frequencies base^(-2i/d) and the sine and
// cosine of position x frequency), computed from IEEE double additions, multiplications and
// divisions only. libm's versions differ between C library releases, and a rotation that
// differs in one bit changes every later logit, so these keep the engine's results independent of
// the C library (and keep libm's code pages out of a small model's memory).
#pragma once

namespace infernet::cpu {

struct SinCos {
  double sin;
  double cos;
};

// sin and cos of x, within 1e-15 of the exact values for |x| < 2^31 (beyond that the result is
// still a deterministic function of x, only less accurate). NaN for a non-finite x.
SinCos RopeSinCos(double x);

// base^exponent for a finite base > 0 and |y| = |exponent * ln(base)| < 700, to a relative error
// below max(3e-15, |y| x 2.2e-16) (mostly the rounding of y); NaN for a base <= 0 or not finite.
double RopePow(double base, double exponent);

}  // namespace infernet::cpu
