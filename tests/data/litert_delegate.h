/* The first fields of LiteRT's C structs from tflite/core/c/common.h (ABI-stable order, append-only), for the
 * test delegates in this folder: the context's tensor array and the registration passed by value need the whole
 * structs; the rest only their leading fields. One copy, so the delegates cannot drift apart. */
#ifndef EDGEBENCH_TEST_LITERT_DELEGATE_H
#define EDGEBENCH_TEST_LITERT_DELEGATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { kOk = 0, kError = 1 };
enum { kFloat32 = 1, kInt32 = 2, kUInt8 = 3, kInt16 = 7, kInt8 = 9 }; /* TfLiteType */
enum { kBuiltinDelegate = 51 };                                         /* TfLiteBuiltinOperator */

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

typedef struct Node { /* TfLiteNode, up to builtin_data (TfLiteAddParams etc. start with the activation) */
  IntArray* inputs;
  IntArray* outputs;
  IntArray* intermediates;
  IntArray* temporaries;
  void* user_data;
  const int* builtin_data;
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
  int (*GetNodeAndRegistration)(struct Context* context, int node_index, Node** node, Registration** registration);
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

typedef struct DelegateParams { /* TfLiteDelegateParams: what a partition's kernel is initialised with */
  Delegate* delegate;
  IntArray* nodes_to_replace;
  IntArray* input_tensors;
  IntArray* output_tensors;
} DelegateParams;

#endif
