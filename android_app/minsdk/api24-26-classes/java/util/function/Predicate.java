// API 24 (java/util/function/Predicate since="24"; test carries no later since; Predicate.not is API 33).
package java.util.function;

public interface Predicate<T> {
    boolean test(T t);
}
