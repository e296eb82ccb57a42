// The saved staff operations (router/graphiql/operations/, bundled by build.mjs): the tabs a
// staff member finds on first load, and a "Staff tasks" panel that opens any of them again —
// switching to its tab if one is open, otherwise adding a tab with the saved text and variables.

import { useEditorContext, useExecutionContext } from '@graphiql/react';
import staffOperations from 'tenor:staff-operations';

export { staffOperations };

// GraphiQL's `defaultTabs`: used only when sessionStorage holds no tabs, so a returning staff
// member keeps the tabs (and edits) of their session.
export const staffTabs = staffOperations.map(({ query, variables }) => ({ query, variables }));

// Unique within the page, which is all a tab id has to be (crypto.randomUUID needs a secure
// context, and staff may reach the router over plain HTTP inside the office network).
let tabCount = 0;
function tabId() {
  tabCount += 1;
  return `staff-${Date.now().toString(36)}-${tabCount}`;
}

function ClipboardIcon(props) {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.5" {...props}>
      <rect x="5" y="4" width="14" height="17" rx="2" />
      <path d="M9 4V3h6v1M8.5 10h7M8.5 14h7M8.5 18h4" />
    </svg>
  );
}

function StaffTasks() {
  const { tabs, moveTab, changeTab } = useEditorContext({ nonNull: true });
  const execution = useExecutionContext({ nonNull: true });

  function open(operation) {
    execution.stop();
    const open = tabs.findIndex((tab) => tab.title === operation.name);
    if (open >= 0) {
      changeTab(open);
      return;
    }
    // GraphiQL's addTab opens an empty tab; appending a filled one and switching to it keeps the
    // saved text in the tab state (and so in sessionStorage) from the start.
    const { query, variables } = operation;
    moveTab([
      ...tabs,
      {
        id: tabId(),
        hash: [query, variables, ''].join('|'),
        title: operation.name,
        query,
        variables,
        headers: null,
        operationName: operation.name,
        response: null,
      },
    ]);
    changeTab(tabs.length);
  }

  return (
    <section className="tenor-tasks" aria-label="Staff tasks">
      <div className="graphiql-doc-explorer-title">Staff tasks</div>
      <p className="tenor-tasks-intro">
        Saved operations for the back office. Open one, fill in its variables (the comment above
        it says where each value comes from) and run it.
      </p>
      <ul>
        {staffOperations.map((operation) => (
          <li key={operation.name}>
            <button
              type="button"
              className="tenor-task"
              data-operation={operation.name}
              onClick={() => open(operation)}
            >
              <strong>{operation.task}</strong> <code>{operation.name}</code>
              <span className="tenor-task-scopes">{operation.scopes.join(' + ')}</span>
              <span className="tenor-task-summary">{operation.summary}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export const staffTasksPlugin = {
  title: 'Staff tasks',
  icon: ClipboardIcon,
  content: StaffTasks,
};
