# ACIQ optimal alpha ratios from the closed-form error models (Banner et al.)
# minimised with a bracketed golden-section search (no scipy needed).
import math
def lap(a, M):   # b = 1
    return 2*math.exp(-a) + a*a/(3*4**M)
def gau(a, M):   # sigma = 1
    return (1+a*a)*(1-math.erf(a/math.sqrt(2))) - math.sqrt(2/math.pi)*a*math.exp(-a*a/2) + a*a/(3*4**M)
def gmin(f, lo, hi):
    g=(math.sqrt(5)-1)/2
    a,b=lo,hi; c=b-g*(b-a); d=a+g*(b-a)
    for _ in range(200):
        if f(c)<f(d): b=d
        else: a=c
        c=b-g*(b-a); d=a+g*(b-a)
    return (a+b)/2
for M in range(1,18):
    # scan for the bracket, then refine
    xs=[i*0.01 for i in range(1,4000)]
    for f,name in ((lap,'L'),(gau,'G')):
        k=min(range(len(xs)), key=lambda i: f(xs[i],M))
        r=gmin(lambda a: f(a,M), xs[max(k-1,0)], xs[k+1])
        print(name, M, "%.9f" % r)
