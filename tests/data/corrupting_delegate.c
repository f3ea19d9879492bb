/* An external LiteRT delegate that claims every node of the model and returns wrong numbers, standing in for
 * a buggy GPU/NPU driver or a CPU whose vector unit is broken: the model prepares, runs and reports full
 * delegation, and only its outputs are wrong. For the numerics check's specs (status wrong_output).
 *
 * Its kernel does not compute the model: each invoke fills the outputs with pseudo-random values of the
 * output's own type (floats in [0, 1), integers over their range), so top-1 is right by chance only.
 * Option seed=N: the generator's seed (default 1); the same seed gives the same outputs run after run.
 *
 * LiteRT's C structs: tests/data/litert_delegate.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "litert_delegate.h"

static uint64_t state = 1;

static uint32_t next_random(void) { /* xorshift64*: deterministic, no libc state shared with the runtime */
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return (uint32_t)((state * 2685821657736338717ULL) >> 32);
}

static void corrupt(Tensor* tensor) {
  if (tensor->data == NULL) return;
  size_t i;
  switch (tensor->type) {
    case kFloat32:
      for (i = 0; i < tensor->bytes / sizeof(float); ++i) ((float*)tensor->data)[i] = (next_random() >> 8) / 16777216.0f;
      break;
    case kInt32:
      for (i = 0; i < tensor->bytes / sizeof(int32_t); ++i) ((int32_t*)tensor->data)[i] = (int32_t)next_random();
      break;
    case kInt16:
      for (i = 0; i < tensor->bytes / sizeof(int16_t); ++i) ((int16_t*)tensor->data)[i] = (int16_t)next_random();
      break;
    default: /* int8, uint8 and anything else: bytes */
      for (i = 0; i < tensor->bytes; ++i) ((uint8_t*)tensor->data)[i] = (uint8_t)next_random();
  }
}

static int kernel_prepare(void* context, Node* node) { return kOk; }

static int kernel_invoke(void* context, Node* node) {
  Context* ctx = context;
  for (int i = 0; i < node->outputs->size; ++i) {
    int index = node->outputs->data[i];
    if (index >= 0 && (size_t)index < ctx->tensors_size) corrupt(&ctx->tensors[index]);
  }
  return kOk;
}

static int claim_every_node(Context* context, Delegate* delegate) {
  IntArray* plan = NULL;
  if (context->GetExecutionPlan(context, &plan) != kOk) return kError;
  Registration kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.prepare = kernel_prepare;
  kernel.invoke = kernel_invoke;
  kernel.builtin_code = kBuiltinDelegate;
  kernel.custom_name = "CorruptingDelegate";
  kernel.version = 1;
  return context->ReplaceNodeSubsetsWithDelegateKernels(context, kernel, plan, delegate);
}

Delegate* tflite_plugin_create_delegate(char** keys, char** values, size_t count, void (*report_error)(const char*)) {
  Delegate* delegate = calloc(1, sizeof(Delegate));
  delegate->Prepare = claim_every_node;
  for (size_t i = 0; i < count; ++i) {
    if (strcmp(keys[i], "seed") == 0) state = strtoull(values[i], NULL, 10) | 1; /* xorshift needs a non-zero state */
  }
  return delegate;
}

void tflite_plugin_destroy_delegate(Delegate* delegate) { free(delegate); }
