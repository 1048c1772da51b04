"use client";

import { type Dispatch, type SetStateAction, useCallback, useEffect, useRef, useState } from "react";
import { useAuthRedirect } from "./use-auth-redirect";

export interface Resource<T> {
  /** The last value loaded, kept while a reload runs or after a reload fails. */
  data: T | undefined;
  /** What went wrong with the last load, if it failed. */
  error: unknown;
  /** True until the first load settles. */
  loading: boolean;
  reload: () => Promise<void>;
  setData: Dispatch<SetStateAction<T | undefined>>;
}

/**
 * Loads `load()` once `enabled` turns true (and again whenever `load` changes), and on `reload()`.
 * An answer to an older request never overwrites a newer one.
 */
export function useResource<T>(load: () => Promise<T>, enabled = true): Resource<T> {
  const handleAuth = useAuthRedirect();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);

  const reload = useCallback(async () => {
    const request = ++latest.current;
    try {
      const value = await load();
      if (request === latest.current) {
        setData(value);
        setError(null);
      }
    } catch (caught) {
      if (handleAuth(caught)) {
        return;
      }
      if (request === latest.current) {
        setError(caught);
      }
    } finally {
      if (request === latest.current) {
        setLoading(false);
      }
    }
  }, [load, handleAuth]);

  useEffect(() => {
    if (enabled) {
      void reload();
    }
  }, [enabled, reload]);

  return { data, error, loading, reload, setData };
}
