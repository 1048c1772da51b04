"use client";

import { type KeyboardEvent, type ReactNode, useId, useRef, useState } from "react";

export interface TabDefinition<Id extends string> {
  id: Id;
  label: string;
  /** Rendered on first visit and kept mounted afterwards, so a pending chat or a half-filled form survives a tab switch. */
  render: (active: boolean) => ReactNode;
}

interface TabsProps<Id extends string> {
  label: string;
  tabs: TabDefinition<Id>[];
  active: Id;
  onChange: (id: Id) => void;
}

/** WAI-ARIA tabs with automatic activation: arrows, Home and End move between tabs. */
export function Tabs<Id extends string>({ label, tabs, active, onChange }: TabsProps<Id>) {
  const baseId = useId();
  const [visited, setVisited] = useState<ReadonlySet<Id>>(() => new Set([active]));
  const buttons = useRef(new Map<Id, HTMLButtonElement>());

  if (!visited.has(active)) {
    setVisited(new Set([...visited, active]));
  }

  function select(id: Id, focus: boolean) {
    onChange(id);
    if (focus) {
      buttons.current.get(id)?.focus();
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const index = tabs.findIndex((tab) => tab.id === active);
    let next: number | null = null;
    if (event.key === "ArrowRight") {
      next = (index + 1) % tabs.length;
    } else if (event.key === "ArrowLeft") {
      next = (index - 1 + tabs.length) % tabs.length;
    } else if (event.key === "Home") {
      next = 0;
    } else if (event.key === "End") {
      next = tabs.length - 1;
    }
    const target = next === null ? undefined : tabs[next];
    if (target) {
      event.preventDefault();
      select(target.id, true);
    }
  }

  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tab-list" onKeyDown={onKeyDown}>
        {tabs.map((tab) => {
          const selected = tab.id === active;
          return (
            <button
              key={tab.id}
              ref={(element) => {
                if (element) {
                  buttons.current.set(tab.id, element);
                } else {
                  buttons.current.delete(tab.id);
                }
              }}
              type="button"
              role="tab"
              id={`${baseId}-tab-${tab.id}`}
              aria-selected={selected}
              aria-controls={`${baseId}-panel-${tab.id}`}
              tabIndex={selected ? 0 : -1}
              className="tab"
              onClick={() => select(tab.id, false)}
              data-testid={`tab-${tab.id}`}
            >
              {tab.label}
            </button>
          );
        })}
      </div>
      {tabs.map((tab) =>
        visited.has(tab.id) ? (
          <div
            key={tab.id}
            role="tabpanel"
            id={`${baseId}-panel-${tab.id}`}
            aria-labelledby={`${baseId}-tab-${tab.id}`}
            hidden={tab.id !== active}
            className="tab-panel"
            data-testid={`panel-${tab.id}`}
          >
            {tab.render(tab.id === active)}
          </div>
        ) : null,
      )}
    </div>
  );
}
