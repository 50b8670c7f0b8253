package io.flashllm.engine.grammar;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * GBNF for the decimal numbers between two bounds, digit by digit: what turns a JSON schema's
 * {@code minimum}/{@code maximum} into a grammar (for integers exactly; for numbers, whole bounds).
 */
final class DigitRanges {
    private DigitRanges() {}

    record Mag(BigInteger value, boolean exclusive) {
    }

    /** Unsigned decimals (no exponent) between the bounds, or null if none. */
    static String magnitude(Mag lo, Mag hi) {
        BigInteger intLo = lo == null ? BigInteger.ZERO : lo.exclusive ? lo.value.add(BigInteger.ONE) : lo.value;
        BigInteger intHi = hi == null ? null : hi.value.subtract(BigInteger.ONE);
        List<String> alts = new ArrayList<>();
        // integer part strictly inside: any fraction
        if (intHi == null || intLo.compareTo(intHi) <= 0) alts.add(nonNegativeInts(intLo, intHi) + " " + JsonSchemaGrammar.ANY_FRACTION);
        // just above an exclusive lower bound: the bound's integer part and a non-zero fraction
        if (lo != null && lo.exclusive && (hi == null || lo.value.compareTo(hi.value) < 0)) {
            alts.add(JsonSchemaGrammar.lit(lo.value.toString()) + " \".\" \"0\"* [1-9] [0-9]*");
        }
        // an inclusive upper bound itself, with a zero fraction at most
        if (hi != null && !hi.exclusive) {
            int c = lo == null ? -1 : lo.value.compareTo(hi.value);
            if (c < 0 || (c == 0 && !lo.exclusive)) alts.add(JsonSchemaGrammar.lit(hi.value.toString()) + " ( \".\" \"0\"+ )?");
        }
        return alts.isEmpty() ? null : JsonSchemaGrammar.group(alts);
    }

    /** Non-negative integers without leading zeros in [lo, hi] (hi null: unbounded); lo <= hi. */
    static String nonNegativeInts(BigInteger lo, BigInteger hi) {
        List<String> alts = new ArrayList<>();
        if (lo.signum() == 0) alts.add(JsonSchemaGrammar.lit("0"));
        BigInteger posLo = lo.max(BigInteger.ONE);
        if (hi == null || posLo.compareTo(hi) <= 0) alts.add(positiveInts(posLo, hi));
        return JsonSchemaGrammar.group(alts);
    }

    /** Positive integers without leading zeros in [lo, hi] (hi null: unbounded); 1 <= lo <= hi. */
    static String positiveInts(BigInteger lo, BigInteger hi) {
        int from = lo.toString().length();
        int to = hi == null ? from : hi.toString().length();
        List<String> alts = new ArrayList<>();
        for (int len = from; len <= to; len++) {
            BigInteger a = len == from ? lo : BigInteger.TEN.pow(len - 1);
            BigInteger b = hi != null && len == to ? hi : BigInteger.TEN.pow(len).subtract(BigInteger.ONE);
            alts.add(sameLength(a.toString(), b.toString()));
        }
        if (hi == null) alts.add("[1-9] " + JsonSchemaGrammar.repeat("[0-9]", from, null));
        return JsonSchemaGrammar.group(alts);
    }

    /** Digit strings of one length between lo and hi inclusive (leading zeros allowed). */
    static String sameLength(String lo, String hi) {
        if (lo.equals(hi)) return JsonSchemaGrammar.lit(lo);
        int n = lo.length();
        if (lo.equals("0".repeat(n)) && hi.equals("9".repeat(n))) return JsonSchemaGrammar.repeat("[0-9]", n, n);
        char a = lo.charAt(0);
        char b = hi.charAt(0);
        String loRest = lo.substring(1);
        String hiRest = hi.substring(1);
        if (a == b) return JsonSchemaGrammar.lit(String.valueOf(a)) + " " + sameLength(loRest, hiRest);
        if (n == 1) return digitClass(a, b);
        List<String> alts = new ArrayList<>();
        char midLo = a;
        char midHi = b;
        if (!loRest.equals("0".repeat(n - 1))) {
            alts.add(JsonSchemaGrammar.lit(String.valueOf(a)) + " " + sameLength(loRest, "9".repeat(n - 1)));
            midLo++;
        }
        String top = null;
        if (!hiRest.equals("9".repeat(n - 1))) {
            top = JsonSchemaGrammar.lit(String.valueOf(b)) + " " + sameLength("0".repeat(n - 1), hiRest);
            midHi--;
        }
        if (midLo <= midHi) alts.add(digitClass(midLo, midHi) + " " + JsonSchemaGrammar.repeat("[0-9]", n - 1, n - 1));
        if (top != null) alts.add(top);
        return JsonSchemaGrammar.group(alts);
    }

    static String digitClass(char a, char b) {
        return a == b ? JsonSchemaGrammar.lit(String.valueOf(a)) : "[" + a + "-" + b + "]";
    }
}
