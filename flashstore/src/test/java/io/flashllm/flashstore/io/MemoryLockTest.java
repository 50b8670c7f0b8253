package io.flashllm.flashstore.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Whether a process may lock memory, read from the texts of /proc/self/status and /proc/self/limits as Linux writes them. */
class MemoryLockTest {
    private static final String ROOT_STATUS = "Name:\tjava\nVmLck:\t       0 kB\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\n"
            + "CapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n";
    /** A container's default set (no CAP_IPC_LOCK, bit 14). */
    private static final String CONTAINER_STATUS = "Name:\tjava\nCapEff:\t00000000a80425fb\n";
    private static final String LIMITS_8M = "Limit                     Soft Limit           Hard Limit           Units     \n"
            + "Max processes             95857                95857                processes \n"
            + "Max locked memory         8388608              8388608              bytes     \n";
    private static final String LIMITS_UNLIMITED = "Max locked memory         unlimited            unlimited            bytes     \n";

    @Test
    void theCapabilityAllowsAnySize() {
        assertTrue(MemoryLock.permitted(ROOT_STATUS, LIMITS_8M, 1L << 40));
    }

    @Test
    void withoutItTheSoftLimitDecides() {
        assertTrue(MemoryLock.permitted(CONTAINER_STATUS, LIMITS_8M, 8 << 20));
        assertFalse(MemoryLock.permitted(CONTAINER_STATUS, LIMITS_8M, (8 << 20) + 1));
        assertTrue(MemoryLock.permitted(CONTAINER_STATUS, LIMITS_UNLIMITED, 1L << 40));
    }

    @Test
    void whatCannotBeReadIsNo() {
        assertFalse(MemoryLock.permitted("", "", 1));
        assertFalse(MemoryLock.permitted(CONTAINER_STATUS, "Max locked memory\n", 1));
    }

    @Test
    void thePropertyTurnsItOff() {
        String before = System.getProperty(MemoryLock.PROPERTY);
        System.setProperty(MemoryLock.PROPERTY, "false");
        try {
            assertFalse(MemoryLock.permitted(1));
        } finally {
            if (before == null) System.clearProperty(MemoryLock.PROPERTY); else System.setProperty(MemoryLock.PROPERTY, before);
        }
    }
}
