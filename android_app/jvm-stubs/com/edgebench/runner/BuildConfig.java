package com.edgebench.runner; public final class BuildConfig { public static final String LITERT_VERSION = "2.3.2"; }
