/**
 * xlplan task pane: xlwings' client for Office.js (Excel on the web, Mac and Windows).
 *
 * Adapted from xlwings.js of the pinned xlwings package ({{XLWINGS_VERSION}}): the same
 * request (client, version, book, names, sheets with values and tables) and the same action
 * functions, written for Office.js instead of Google Apps Script. Only the actions xlplan's
 * handlers send are implemented; any other action stops with a message.
 *
 * Original notice of xlwings.js:
 *
 * xlwings for Google Apps Script
 * Copyright (C) 2014 - present, Zoomer Analytics GmbH.
 * All rights reserved.
 *
 * Redistribution and use in source and binary forms, with or without modification,
 * are permitted provided that the following conditions are met:
 *
 * * Redistributions of source code must retain the above copyright notice, this
 *   list of conditions and the following disclaimer.
 *
 * * Redistributions in binary form must reproduce the above copyright notice, this
 *   list of conditions and the following disclaimer in the documentation and/or
 *   other materials provided with the distribution.
 *
 * * Neither the name of the copyright holder nor the names of its
 *   contributors may be used to endorse or promote products derived from
 *   this software without specific prior written permission.
 *
 * THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
 * ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
 * WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
 * DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR
 * ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES
 * (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES;
 * LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON
 * ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
 * (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
 * SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
 */

"use strict";

const XLWINGS_VERSION = "{{XLWINGS_VERSION}}";
const TOKEN_KEY = "xlplan-token";

// "Sheet1!A1:C5" -> "$A$1:$C$5", the form xlwings' VBA client sends
function vbaAddress(address) {
  const local = address.split("!").pop();
  return local.replace(/([A-Z]+)(\d+)/g, "$$$1$$$2");
}

async function bookPayload(context) {
  const workbook = context.workbook;
  workbook.load("name");
  const sheets = workbook.worksheets;
  sheets.load("items/name");
  const active = sheets.getActiveWorksheet();
  active.load("position");
  await context.sync();

  const parts = sheets.items.map((sheet) => {
    const used = sheet.getUsedRangeOrNullObject(true);
    used.load("rowIndex,columnIndex,rowCount,columnCount");
    sheet.tables.load("items/name,items/showHeaders,items/showTotals");
    return { sheet, used };
  });
  await context.sync();

  const loaded = parts.map(({ sheet, used }) => {
    let values = null;
    if (!used.isNullObject) {
      values = sheet.getRangeByIndexes(0, 0, used.rowIndex + used.rowCount,
        used.columnIndex + used.columnCount);
      values.load("values");
    }
    const tables = sheet.tables.items.map((table) => {
      const t = { table, range: table.getRange(), header: null, body: null, total: null };
      t.range.load("address");
      if (table.showHeaders) { t.header = table.getHeaderRowRange(); t.header.load("address"); }
      t.body = table.getDataBodyRange();
      t.body.load("address");
      if (table.showTotals) { t.total = table.getTotalRowRange(); t.total.load("address"); }
      return t;
    });
    return { sheet, values, tables };
  });
  await context.sync();

  return {
    client: "Office.js",
    version: XLWINGS_VERSION,
    book: { name: workbook.name, active_sheet_index: active.position, selection: null },
    names: [],
    sheets: loaded.map(({ sheet, values, tables }) => ({
      name: sheet.name,
      values: values ? values.values : [[]],
      pictures: [],
      tables: tables.map((t) => ({
        name: t.table.name,
        range_address: vbaAddress(t.range.address),
        header_row_range_address: t.header ? vbaAddress(t.header.address) : null,
        data_body_range_address: vbaAddress(t.body.address),
        total_row_range_address: t.total ? vbaAddress(t.total.address) : null,
        show_headers: t.table.showHeaders,
        show_totals: t.table.showTotals,
        show_autofilter: true,
        table_style: "TableStyleMedium2",
      })),
    })),
  };
}

// --- the actions xlplan's handlers send (names and arguments as in xlwings.js) ---------

function sheetAt(context, action) {
  return context.workbook.worksheets.getItemAt(action.sheet_position);
}

function getRange(context, action) {
  return sheetAt(context, action).getRangeByIndexes(
    action.start_row, action.start_column, action.row_count, action.column_count);
}

const funcs = {
  setValues(context, action) {
    getRange(context, action).values = action.values;
  },
  rangeClearContents(context, action) {
    getRange(context, action).clear(Excel.ClearApplyTo.contents);
  },
  rangeClearFormats(context, action) {
    getRange(context, action).clear(Excel.ClearApplyTo.formats);
  },
  rangeClear(context, action) {
    getRange(context, action).clear();
  },
  setRangeColor(context, action) {
    getRange(context, action).format.fill.color = action.args[0];
  },
  setNumberFormat(context, action) {
    // a range with several cells takes one number format per cell
    const rows = action.row_count || 1;
    const cols = action.column_count || 1;
    getRange(context, action).numberFormat =
      Array.from({ length: rows }, () => Array(cols).fill(action.args[0]));
  },
  addSheet(context, action) {
    const sheet = context.workbook.worksheets.add(action.args[1]);
    sheet.position = parseInt(action.args[0], 10);
  },
  setSheetName(context, action) {
    sheetAt(context, action).name = action.args[0].toString();
  },
  activateSheet(context, action) {
    context.workbook.worksheets.getItemAt(parseInt(action.args[0], 10)).activate();
  },
  sheetClear(context, action) {
    sheetAt(context, action).getRange().clear();
  },
  sheetClearFormats(context, action) {
    sheetAt(context, action).getRange().clear(Excel.ClearApplyTo.formats);
  },
  sheetClearContents(context, action) {
    sheetAt(context, action).getRange().clear(Excel.ClearApplyTo.contents);
  },
  setAutofit(context, action) {
    const range = getRange(context, action);
    if (action.args[0] === "columns") range.format.autofitColumns();
    else range.format.autofitRows();
  },
  alert(context, action, ui) {
    ui.message(action.args[1] ? `${action.args[1]}: ${action.args[0]}` : action.args[0]);
  },
};

async function runServer(route, ui) {
  const token = window.localStorage.getItem(TOKEN_KEY) || "";
  if (!token) {
    ui.error("Ange din nyckel (token) under Behörighet först.");
    return;
  }
  await Excel.run(async (context) => {
    const payload = await bookPayload(context);
    const response = await fetch(new URL(route, window.location.href), {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(payload),
    });
    const text = await response.text();
    if (!response.ok) {
      ui.error(text || `Servern svarade ${response.status}.`);
      return;
    }
    const data = JSON.parse(text);
    for (const action of data.actions) {
      // sheets must exist before the actions that address them by position
      if (action.func.toLowerCase().includes("sheet")) await context.sync();
      const func = funcs[action.func];
      if (!func) {
        ui.error(`Tillägget känner inte igen åtgärden ${action.func}; uppdatera tillägget.`);
        return;
      }
      func(context, action, ui);
    }
    await context.sync();
  });
}

function statusUi() {
  const box = document.getElementById("status");
  return {
    message(text) { box.className = ""; box.textContent = text; },
    error(text) { box.className = "fel"; box.textContent = text; },
  };
}

Office.onReady(() => {
  const ui = statusUi();
  for (const button of document.querySelectorAll("button[data-route]")) {
    button.addEventListener("click", async () => {
      ui.message(`${button.textContent} …`);
      try {
        await runServer(button.dataset.route, ui);
        if (document.getElementById("status").textContent.endsWith("…")) ui.message("Klart.");
      } catch (error) {
        ui.error(`Det gick inte: ${error.message || error}`);
      }
    });
  }
  document.getElementById("save-token").addEventListener("click", () => {
    window.localStorage.setItem(TOKEN_KEY, document.getElementById("token").value.trim());
    document.getElementById("token").value = "";
    ui.message("Nyckeln är sparad.");
  });
});
