package com.google.ai.edge.litert; public enum Accelerator { NONE, CPU, GPU, NPU }
