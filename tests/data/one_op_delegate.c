/* An external LiteRT delegate that takes the nodes of ONE op type in the middle of a graph, computes them right,
 * then corrupts their outputs: a driver with one broken kernel. Every other node stays on LiteRT's plain
 * kernels, so the first claimed node is the op a culprit search must name.
 *
 * Option op=ADD|MUL|SUB (default ADD): the builtin it takes. It claims a node of that type only where it can
 * compute it exactly like LiteRT: two float32 inputs and one output of identical shape (no broadcasting), and
 * neither input written by another claimed node (so every partition is independent nodes, and no tensor lives
 * inside one). The node's fused activation (none, relu, relu_n1_to_1, relu6) is applied before the corruption.
 *
 * Option mode (default flip): what it does to the right result, from blatant to subtle:
 *   flip     the sign of every value;
 *   replace  the output replaced by the op's first input (the op skipped: a residual ADD loses its branch);
 *   scale    every value times (1 + amount): a kernel a few percent off;
 *   channel  the sign of one channel (index 0 of the last axis, NHWC's channels) flipped, the rest right.
 * amount: the environment variable EDGEBENCH_ONE_OP_AMOUNT (a fraction, default 0.05), read when the delegate
 * is made, so a sweep can vary it without changing the delegate's name (the cell's key).
 * Option count=N (default: every node it can take): claim only the first N, in execution order.
 *
 * LiteRT's C structs: tests/data/litert_delegate.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "litert_delegate.h"

enum { kBuiltinAdd = 0, kBuiltinMul = 18, kBuiltinSub = 41 };         /* TfLiteBuiltinOperator */
enum { kActNone = 0, kActRelu = 1, kActReluN1To1 = 2, kActRelu6 = 3 }; /* TfLiteFusedActivation */

typedef struct Step { /* one claimed node, as its partition's kernel runs it */
  int a, b, out, activation;
} Step;

typedef struct Partition {
  int count;
  Step steps[];
} Partition;

typedef enum Mode { kFlip, kReplace, kScale, kChannel } Mode;
static const char* const kModeNames[] = {"flip", "replace", "scale", "channel"};

static int target_op = kBuiltinAdd;
static Mode mode = kFlip;
static float amount = 0.05f;
static int max_claims = -1; /* -1: every node it can take */

static bool same_dims(const IntArray* x, const IntArray* y) {
  if (x == NULL || y == NULL || x->size != y->size) return false;
  for (int i = 0; i < x->size; ++i)
    if (x->data[i] != y->data[i]) return false;
  return true;
}

static float apply(float a, float b) {
  if (target_op == kBuiltinMul) return a * b;
  if (target_op == kBuiltinSub) return a - b;
  return a + b;
}

static float activate(float v, int activation) {
  float low = activation == kActReluN1To1 ? -1.0f : 0.0f;
  float high = activation == kActReluN1To1 ? 1.0f : 6.0f;
  if (activation == kActNone) return v;
  if (v < low) v = low;
  if (activation != kActRelu && v > high) v = high;
  return v;
}

static int channels(const Tensor* tensor) {
  const IntArray* dims = tensor->dims;
  return dims != NULL && dims->size > 0 && dims->data[dims->size - 1] > 0 ? dims->data[dims->size - 1] : 1;
}

/* The right value ``right`` at flat index ``k`` of the output, corrupted as the mode says; ``a`` is the op's
 * first input there. */
static float corrupt(float right, float a, size_t k, int channel_count) {
  switch (mode) {
    case kReplace:
      return a;
    case kScale:
      return right * (1.0f + amount);
    case kChannel:
      return k % (size_t)channel_count == 0 ? -right : right;
    default:
      return -right;
  }
}

static void* kernel_init(void* context, const char* buffer, size_t length) {
  Context* ctx = context;
  const DelegateParams* params = (const DelegateParams*)buffer;
  int n = params->nodes_to_replace->size;
  Partition* partition = calloc(1, sizeof(Partition) + (size_t)n * sizeof(Step));
  partition->count = n;
  for (int i = 0; i < n; ++i) {
    Node* node = NULL;
    Registration* registration = NULL;
    ctx->GetNodeAndRegistration(ctx, params->nodes_to_replace->data[i], &node, &registration);
    Step* step = &partition->steps[i];
    step->a = node->inputs->data[0];
    step->b = node->inputs->data[1];
    step->out = node->outputs->data[0];
    step->activation = node->builtin_data ? node->builtin_data[0] : kActNone;
  }
  return partition;
}

static void kernel_free(void* context, void* buffer) { free(buffer); }

static int kernel_prepare(void* context, Node* node) { return kOk; }

static int kernel_invoke(void* context, Node* node) {
  Context* ctx = context;
  const Partition* partition = node->user_data;
  for (int i = 0; i < partition->count; ++i) {
    const Step* step = &partition->steps[i];
    const float* a = ctx->tensors[step->a].data;
    const float* b = ctx->tensors[step->b].data;
    float* out = ctx->tensors[step->out].data;
    size_t n = ctx->tensors[step->out].bytes / sizeof(float);
    int channel_count = channels(&ctx->tensors[step->out]);
    if (a == NULL || b == NULL || out == NULL) return kError;
    for (size_t k = 0; k < n; ++k) out[k] = corrupt(activate(apply(a[k], b[k]), step->activation), a[k], k, channel_count);
  }
  return kOk;
}

static bool can_take(Context* context, const Node* node, const bool* claimed_output) {
  if (node->inputs->size != 2 || node->outputs->size != 1) return false;
  int a = node->inputs->data[0], b = node->inputs->data[1], out = node->outputs->data[0];
  if (a < 0 || b < 0 || out < 0) return false;
  const Tensor* t = context->tensors;
  if (t[a].type != kFloat32 || t[b].type != kFloat32 || t[out].type != kFloat32) return false;
  if (!same_dims(t[a].dims, t[b].dims) || !same_dims(t[a].dims, t[out].dims)) return false;
  int activation = node->builtin_data ? node->builtin_data[0] : kActNone;
  if (activation > kActRelu6) return false;
  return !claimed_output[a] && !claimed_output[b];
}

static int claim_one_op_type(Context* context, Delegate* delegate) {
  IntArray* plan = NULL;
  if (context->GetExecutionPlan(context, &plan) != kOk) return kError;
  IntArray* claimed = calloc(1, sizeof(IntArray) + (size_t)plan->size * sizeof(int));
  bool* claimed_output = calloc(context->tensors_size, sizeof(bool));
  for (int i = 0; i < plan->size && claimed->size != max_claims; ++i) {
    Node* node = NULL;
    Registration* registration = NULL;
    if (context->GetNodeAndRegistration(context, plan->data[i], &node, &registration) != kOk) continue;
    if (registration->builtin_code != target_op || !can_take(context, node, claimed_output)) continue;
    claimed->data[claimed->size++] = plan->data[i];
    claimed_output[node->outputs->data[0]] = true;
  }
  Registration kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.init = kernel_init;
  kernel.free = kernel_free;
  kernel.prepare = kernel_prepare;
  kernel.invoke = kernel_invoke;
  kernel.builtin_code = kBuiltinDelegate;
  kernel.custom_name = "OneOpDelegate";
  kernel.version = 1;
  int status = context->ReplaceNodeSubsetsWithDelegateKernels(context, kernel, claimed, delegate);
  free(claimed_output);
  free(claimed);
  return status;
}

static bool read_op(const char* value) {
  if (strcmp(value, "ADD") == 0) target_op = kBuiltinAdd;
  else if (strcmp(value, "MUL") == 0) target_op = kBuiltinMul;
  else if (strcmp(value, "SUB") == 0) target_op = kBuiltinSub;
  else return false;
  return true;
}

static bool read_mode(const char* value) {
  for (size_t m = 0; m < sizeof kModeNames / sizeof kModeNames[0]; ++m) {
    if (strcmp(value, kModeNames[m]) == 0) {
      mode = (Mode)m;
      return true;
    }
  }
  return false;
}

static bool read_count(const char* value) {
  char* end = NULL;
  long n = strtol(value, &end, 10);
  max_claims = (int)n;
  return end != value && *end == '\0' && n > 0;
}

static bool read_amount(void) {
  const char* value = getenv("EDGEBENCH_ONE_OP_AMOUNT");
  if (value == NULL) return true;
  char* end = NULL;
  amount = strtof(value, &end);
  return end != value && *end == '\0';
}

Delegate* tflite_plugin_create_delegate(char** keys, char** values, size_t count, void (*report_error)(const char*)) {
  /* A process loads the library once: each delegate starts from the defaults, not the last one's options. */
  target_op = kBuiltinAdd;
  mode = kFlip;
  amount = 0.05f;
  max_claims = -1;
  const char* problem = read_amount() ? NULL : "one_op_delegate: EDGEBENCH_ONE_OP_AMOUNT must be a number";
  for (size_t i = 0; i < count && problem == NULL; ++i) {
    if (strcmp(keys[i], "op") == 0 && !read_op(values[i])) problem = "one_op_delegate: op must be ADD, MUL or SUB";
    if (strcmp(keys[i], "mode") == 0 && !read_mode(values[i]))
      problem = "one_op_delegate: mode must be flip, replace, scale or channel";
    if (strcmp(keys[i], "count") == 0 && !read_count(values[i]))
      problem = "one_op_delegate: count must be a whole number above 0";
  }
  if (problem != NULL) {
    if (report_error) report_error(problem);
    return NULL;
  }
  Delegate* delegate = calloc(1, sizeof(Delegate));
  delegate->Prepare = claim_one_op_type;
  return delegate;
}

void tflite_plugin_destroy_delegate(Delegate* delegate) { free(delegate); }
