/**
 * .xlsx downloads with Chinese headers, built in the browser with exceljs (never the npm
 * `xlsx` package: an old SheetJS release with a prototype-pollution advisory). Loaded lazily:
 * only a page's export button pulls it in.
 */
import ExcelJS from 'exceljs';

export interface Column { header: string; key: string; width?: number }

export function workbookBuffer(sheetName: string, columns: Column[], rows: Array<Record<string, unknown>>): Promise<ArrayBuffer> {
  return workbookOfSheets([{ name: sheetName, columns, rows }]);
}

export interface Sheet { name: string; columns: Column[]; rows: Array<Record<string, unknown>> }

/** A workbook of several sheets (e.g. 评价: rooms, their comments, meals, theirs), each with Chinese headers. */
export async function workbookOfSheets(sheets: Sheet[]): Promise<ArrayBuffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = '社区服务预约 工作人员后台';
  for (const sheet of sheets) {
    const ws = wb.addWorksheet(sheet.name);
    ws.columns = sheet.columns;
    ws.getRow(1).font = { bold: true };
    for (const r of sheet.rows) ws.addRow(r);
  }
  return (await wb.xlsx.writeBuffer()) as ArrayBuffer;
}

export async function downloadXlsxSheets(fileName: string, sheets: Sheet[]): Promise<void> {
  saveBuffer(fileName, await workbookOfSheets(sheets));
}

export async function downloadXlsx(fileName: string, sheetName: string, columns: Column[], rows: Array<Record<string, unknown>>): Promise<void> {
  saveBuffer(fileName, await workbookBuffer(sheetName, columns, rows));
}

function saveBuffer(fileName: string, buffer: ArrayBuffer): void {
  const url = URL.createObjectURL(new Blob([buffer], { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
