/* block: block-scaled formats over a contiguous run of float32.
 *
 * OCP Microscaling v1.0 (MXFP8 E4M3/E5M2, MXFP6 E2M3/E3M2, MXFP4, MXINT8:
 * 32 elements sharing an E8M0 power-of-two scale), NVIDIA NVFP4 (16 E2M1
 * elements, E4M3 block scale, float32 tensor scale: ModelOpt
 * NVFP4QTensor), bitsandbytes NF4 (64-element absmax blocks, optional
 * double quantization of the absmax), and ggml's reference quantizers
 * Q8_0, Q4_0, Q4_1 and MXFP4 (ggml-quants.c quantize_row_*_ref), each in
 * its reference's float32 operation order.  A run is split into blocks of
 * f->block elements from its start; a shorter last block is quantized on
 * its own elements (equal to zero padding for every kind except Q4_1,
 * whose min would see the padding zeros).  Semantics and sources:
 * docs/formats.md.  Pure C11 + libm (+ OpenMP); no printing. */
#ifndef QS_ENGINE_BLOCK_H
#define QS_ENGINE_BLOCK_H

#include <stdint.h>

#include "fp.h"
#include "qs_error.h"
#include "round.h"

typedef enum qs_block_kind {
	QS_BLK_MXFP8_E4M3 = 0,
	QS_BLK_MXFP8_E5M2,
	QS_BLK_MXFP6_E2M3,
	QS_BLK_MXFP6_E3M2,
	QS_BLK_MXFP4,
	QS_BLK_MXINT8,
	QS_BLK_NVFP4,
	QS_BLK_NF4,
	QS_BLK_Q8_0,
	QS_BLK_Q4_0,
	QS_BLK_Q4_1,
	QS_BLK_MXFP4_GGML,
	QS_BLK_KIND_COUNT
} qs_block_kind;

/* How an MX block picks its shared exponent from amax = max |x|. */
typedef enum qs_mx_scale {
	QS_MX_FLOOR = 0, /* exponent bits of amax - emax_elem (OCP, torchao) */
	QS_MX_FLOAT_LOG2, /* floor(log2f(amax)) - emax (microxcaling Python,
			   * ggml): +1 just below powers of two */
	QS_MX_CEIL,  /* +1 when amax's mantissa is nonzero (torchao CEIL) */
	QS_MX_EVEN,  /* amax rounded to the element precision first (torchao) */
	QS_MX_RCEIL, /* E8M0 = round-up(amax * (1/elem_max)) (NVIDIA, torchao) */
	QS_MX_SCALE_COUNT
} qs_mx_scale;

typedef struct qs_blockfmt {
	qs_block_kind kind;
	char name[32];
	int block;        /* elements per block (settable: 1..65536; ggml
			   * packing needs 32, NF4 packing an even size) */
	qs_fpfmt elem;    /* element float format (MX FP kinds, NVFP4) */
	qs_mx_scale scale_mode;  /* MX kinds: default FLOOR */
	qs_rounding elem_round;  /* MX kinds: NEAREST (RNE, OCP) or AWAY
				  * (microxcaling 'nearest') */
	qs_rounding scale_round; /* NVFP4: NEAREST (ModelOpt) or CEIL
				  * (cuDNN "round up") */
	int double_quant;        /* NF4: absmax in 8 bits, blocks of 256 */
} qs_blockfmt;

/* Look up a block format: mxfp8_e4m3 (mxfp8), mxfp8_e5m2, mxfp6_e2m3,
 * mxfp6_e3m2, mxfp4, mxint8, nvfp4, nf4, nf4_dq (double quantization),
 * q8_0, q4_0, q4_1, mxfp4_ggml; case-insensitive.  Defaults as listed in
 * the struct.  QS_EINVAL lists the names. */
qs_status qs_blockfmt_lookup(const char *name, qs_blockfmt *f,
			     qs_error *err);
int qs_blockfmt_count(void);
const char *qs_blockfmt_name(int i); /* NULL past the end */

/* Names and parsers of the MX scale modes: "floor", "float_log2",
 * "ceil", "even", "rceil".  Parse returns 0, or -1 if unknown. */
const char *qs_mx_scale_name(qs_mx_scale m);
int qs_mx_scale_parse(const char *name, qs_mx_scale *out);

/* Number of blocks covering n elements. */
int64_t qs_block_count(const qs_blockfmt *f, int64_t n);

/* Storage bits per element of n elements, every scale included (and the
 * NVFP4 tensor scale, NF4 double-quantization constants). */
double qs_block_bits(const qs_blockfmt *f, int64_t n);

/* Outputs of qs_block_quantize; every array may be NULL. */
typedef struct qs_block_out {
	uint8_t *codes;        /* [n] element codes, one per byte: FP codes
				* (sign in bit bits-1), MXINT8 and Q8_0 int8
				* two's complement, 4-bit indices (NF4 0..15,
				* Q4_0/Q4_1 0..15, ggml MXFP4 0..15) */
	uint32_t *scale_codes; /* [nblocks] stored scale: E8M0 byte (MX),
				* E4M3 byte (NVFP4), fp16 bits of d (Q8_0,
				* Q4_0, Q4_1), float32 bits of absmax (NF4)
				* or its 8-bit code (NF4 double quant) */
	float *scales;         /* [nblocks] the factor element values are
				* multiplied by: 2^e (MX), e4m3 * s2 (NVFP4),
				* d (ggml, fp16-rounded), absmax (NF4,
				* dequantized under double quant) */
	float *mins;           /* [nblocks] Q4_1: m (fp16-rounded) */
	float *scales2;        /* [ceil(nblocks/256)] NF4 double quant:
				* second-level absmax */
	float *y;              /* [n] dequantized values */
	/* results (always written) */
	float tensor_scale; /* NVFP4 s2 = amax/(6*448); NF4 DQ offset; else 1 */
	int64_t clipped;    /* elements beyond the element range (clamped) */
	int64_t zeroed;     /* nonzero finite elements that became 0 */
	int64_t nan_blocks; /* blocks whose scale is NaN (NaN/Inf inside) */
} qs_block_out;

/* Quantize x[0..n) with f.  tensor_amax is NVFP4's tensor amax (< 0:
 * computed from x; it must be finite).  Deterministic whatever the thread
 * count.  QS_EINVAL for a bad format, block size or NVFP4 amax,
 * QS_ENOMEM (NF4 double quant needs nblocks floats). */
qs_status qs_block_quantize(const qs_blockfmt *f, const float *x, int64_t n,
			    float tensor_amax, qs_block_out *out,
			    qs_error *err);

/* Pack element codes into the kind's storage layout: FP4/NVFP4 two per
 * byte, element 2i in the low nibble (OCP/ONNX/PyTorch); NF4 two per byte,
 * first element in the high nibble (bitsandbytes); Q4_0/Q4_1/ggml MXFP4
 * per 32-block byte j = q[j] | q[j+16] << 4; 8-bit and FP6 codes one per
 * byte (FP6 unpacked, as torchao).  bytes needs qs_block_packed_size();
 * returns the number of bytes written, or a negative qs_status. */
int64_t qs_block_packed_size(const qs_blockfmt *f, int64_t n);
int64_t qs_block_pack(const qs_blockfmt *f, const uint8_t *codes, int64_t n,
		      uint8_t *bytes, qs_error *err);

/* Element value of a code of a 4-bit codebook kind (NF4: bitsandbytes
 * code values; Q4_0: q - 8; Q4_1: q; ggml MXFP4: kvalues / 2). */
float qs_block_code_value(const qs_blockfmt *f, uint32_t code);

/* The bitsandbytes signed 8-bit dynamic map (create_dynamic_map with
 * torch's float32 linspace), 256 ascending values: the NF4 double
 * quantization code book. */
void qs_block_dynamic_map(float map[256]);

/* Properties of a block format (for a table of formats). */
typedef struct qs_block_props {
	int block;
	int elem_bits;      /* bits per element code */
	int scale_bits;     /* bits per block scale (+ min for Q4_1) */
	double bits;        /* per element for one full block */
	const char *elem;   /* element format name */
	const char *scale;  /* scale format name */
	double elem_max;    /* largest element value before scaling */
} qs_block_props;
void qs_blockfmt_props(const qs_blockfmt *f, qs_block_props *p);

#endif
