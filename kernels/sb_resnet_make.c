/* Being written (inference issue). */
