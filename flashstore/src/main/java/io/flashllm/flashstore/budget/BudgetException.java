package io.flashllm.flashstore.budget;

/** A memory budget too small for what must stay in DRAM. */
public final class BudgetException extends RuntimeException {
    public BudgetException(String message) {
        super(message);
    }
}
