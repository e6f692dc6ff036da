package org.phonehome.model

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.phonehome.core.Contract

/** The app's words cover what the generated contract says the core writes. */
class ContractTest {
    @Test
    fun `every finding kind the core writes has a place in the app's order`() {
        val unknown = Kinds.rank("no-such-kind")
        val ranks = Contract.FINDING_KINDS.map { Kinds.rank(it) }
        for ((kind, rank) in Contract.FINDING_KINDS.zip(ranks)) assertTrue(kind, rank < unknown)
        assertEquals(ranks.size, ranks.toSet().size)
    }

}
