/* An external LiteRT delegate that claims every node of the model and returns wrong numbers, standing in for
 * a buggy GPU/NPU driver or a CPU whose vector unit is broken: the model prepares, runs and reports full
 * delegation, and only its outputs are wrong. For the numerics check's specs (status wrong_output).
 *
 * Its kernel does not compute the model: each invoke fills the outputs with pseudo-random values of the
 * output's own type (floats in [0, 1), integers over their range), so top-1 is right by chance only.
 * Option seed=N: the generator's seed (default 1); the same seed gives the same outputs run after run.
 *
 * Mirrors the first fields of LiteRT's C structs from tflite/core/c/common.h (ABI-stable order, append-only):
 * the context's tensor array and the registration passed by value need the whole structs; the rest only
 * their leading fields, with placeholders of the same size. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { kOk = 0, kError = 1 };
enum { kFloat32 = 1, kInt32 = 2, kUInt8 = 3, kInt16 = 7, kInt8 = 9 }; /* TfLiteType */
enum { kBuiltinDelegate = 51 };                                         /* kTfLiteBuiltinDelegate */

typedef struct IntArray {
  int size;
  int data[];
} IntArray;

typedef struct Tensor { /* TfLiteTensor, whole: the context holds an array of them */
  int type;
  void* data;
  IntArray* dims;
  float scale;
  int32_t zero_point;
  int allocation_type;
  size_t bytes;
  const void* allocation;
  const char* name;
  void* delegate;
  int buffer_handle;
  bool data_is_stale;
  bool is_variable;
  struct {
    int type;
    void* params;
  } quantization;
  void* sparsity;
  const IntArray* dims_signature;
} Tensor;

typedef struct Node { /* TfLiteNode */
  IntArray* inputs;
  IntArray* outputs;
} Node;

struct Delegate;

typedef struct Registration { /* TfLiteRegistration: passed by value, so every field must be there */
  void* (*init)(void* context, const char* buffer, size_t length);
  void (*free)(void* context, void* buffer);
  int (*prepare)(void* context, Node* node);
  int (*invoke)(void* context, Node* node);
  const char* (*profiling_string)(const void* context, const Node* node);
  int32_t builtin_code;
  const char* custom_name;
  int version;
  void* registration_external;
  void* (*async_kernel)(void* context, Node* node);
  uint64_t inplace_operator;
} Registration;

typedef struct Context { /* TfLiteContext */
  size_t tensors_size;
  int (*GetExecutionPlan)(struct Context* context, IntArray** execution_plan);
  Tensor* tensors;
  void* impl_;
  void* ResizeTensor;
  void* ReportError;
  void* AddTensors;
  void* GetNodeAndRegistration;
  int (*ReplaceNodeSubsetsWithDelegateKernels)(struct Context* context, Registration registration,
                                               const IntArray* nodes_to_replace, struct Delegate* delegate);
} Context;

typedef struct Delegate { /* TfLiteDelegate */
  void* data_;
  int (*Prepare)(Context* context, struct Delegate* delegate);
  void* CopyFromBufferHandle;
  void* CopyToBufferHandle;
  void* FreeBufferHandle;
  int64_t flags;
  void* opaque_delegate_builder;
} Delegate;

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
